/**
 * @file The extension's log channel (a LogOutputChannel: levels the user can filter) and timing
 * helpers. Messages quote file names and text from outside: they go through printable()
 * ([Note: names printed raw] in core/common/printable.ts), so a name cannot add lines to the log.
 */
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';

export class Logger implements vscode.Disposable {
	readonly channel: vscode.LogOutputChannel;

	constructor(name: string) {
		this.channel = vscode.window.createOutputChannel(name, { log: true });
	}

	info(message: string): void {
		this.channel.info(printable(message));
	}

	warn(message: string): void {
		this.channel.warn(printable(message));
	}

	error(message: string): void {
		this.channel.error(printable(message));
	}

	/** Runs `fn` and logs how long it took, under `phase`. */
	async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
		const started = performance.now();
		try {
			return await fn();
		} finally {
			this.channel.info(`${phase}: ${(performance.now() - started).toFixed(0)} ms`);
		}
	}

	show(): void {
		this.channel.show(true);
	}

	dispose(): void {
		this.channel.dispose();
	}
}
