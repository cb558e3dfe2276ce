/**
 * @file Ownership of disposables, after VS Code's own pattern: a Disposable registers what it
 * creates and releases all of it, in reverse order, when it is disposed. A registration after
 * disposal is released at once.
 */

export interface IDisposable {
	dispose(): unknown;
}

export function disposeAll(items: IDisposable[]): void {
	while (items.length) {
		try {
			void items.pop()!.dispose();
		} catch {
			// one failing dispose must not keep the others alive
		}
	}
}

export function toDisposable(fn: () => unknown): IDisposable {
	return { dispose: fn };
}

export abstract class Disposable implements IDisposable {
	private readonly owned: IDisposable[] = [];
	private isDisposed = false;

	protected get disposed(): boolean {
		return this.isDisposed;
	}

	protected register<T extends IDisposable>(item: T): T {
		if (this.isDisposed) {
			void item.dispose();
		} else {
			this.owned.push(item);
		}
		return item;
	}

	dispose(): void {
		if (!this.isDisposed) {
			this.isDisposed = true;
			disposeAll(this.owned);
		}
	}
}
