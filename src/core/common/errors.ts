/**
 * @file Typed errors of the engine. Every error carries a `code` that callers switch on (never the
 * message, which is for people and says what to do next).
 */

export type ClipErrorCode =
	| 'ModelNotFound'
	/** The model is there, but not in the variant asked for (Immich and rclip folders are fp32 only). */
	| 'VariantUnavailable'
	| 'ModelInvalid'
	| 'DownloadFailed'
	| 'ChecksumMismatch'
	| 'DecodeFailed'
	| 'ImageTooLarge'
	| 'UnsupportedFormat'
	| 'FileUnreadable'
	| 'IndexLocked'
	| 'IndexCorrupt'
	| 'IndexNotFound'
	/** A folder named as an index folder holds files that are not an index of ours: nothing is written there. */
	| 'NotAnIndex'
	| 'ModelMismatch'
	| 'ProviderUnavailable'
	| 'InvalidQuery'
	| 'InvalidArgument'
	/** A classes file that cannot be read as classes (not JSON, nested too deep, a class that is not one). */
	| 'ClassesInvalid'
	/** A write would replace a file that is not the product's own (a classes file, an image, notes). */
	| 'WouldOverwrite'
	/** A file the product would update is read-only. */
	| 'ReadOnly'
	| 'NoSpace'
	/** A path read from a file or built from a name would lead outside its workspace folder. */
	| 'OutsideFolder'
	/** Input past a bound the product sets on work or size (patterns, classes, file sizes). */
	| 'LimitExceeded'
	/** The team store (PostgreSQL + pgvector) cannot be reached, refuses the credentials or the TLS. */
	| 'StoreUnavailable'
	/** A native module (hnswlib-node's addon) does not load on this host. */
	| 'NativeModuleUnavailable'
	/** A download without a hash to check it against, or over plain http:// to another machine. */
	| 'Unverifiable'
	| 'Cancelled';

export class ClipError extends Error {
	readonly code: ClipErrorCode;
	/** The file the error is about, when there is one (an image, a model file, an index file). */
	readonly file?: string;

	constructor(code: ClipErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
		super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
		this.name = 'ClipError';
		this.code = code;
		this.file = options?.file;
	}

	/** True when `err` is a ClipError, optionally of the given code. Safe under bundling/minifying. */
	static is(err: unknown, code?: ClipErrorCode): err is ClipError {
		return (
			typeof err === 'object' &&
			err !== null &&
			(err as { name?: unknown }).name === 'ClipError' &&
			typeof (err as { code?: unknown }).code === 'string' &&
			(code === undefined || (err as { code: string }).code === code)
		);
	}
}

export function cancelled(what = 'The operation'): ClipError {
	return new ClipError('Cancelled', `${what} was cancelled.`);
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
	if (signal?.aborted) {
		throw cancelled(what);
	}
}

/** A one-line description of any thrown value, for logs and failure lists. */
export function describeError(err: unknown): string {
	if (err instanceof Error) {
		return err.message.split('\n')[0];
	}
	return String(err);
}
