/**
 * Reading a map's input in chunks: `ChunkFeed` feeds imap/imapUnordered as the iterable yields.
 */
export type Input<T> = Iterable<T> | AsyncIterable<T>;
type Outcome = { ok: true; values: unknown[] } | { ok: false; error: unknown };

export function isIterable(value: unknown): value is Iterable<unknown> {
  return value != null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value != null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Pulls an iterable (sync or async) into chunks, submits each chunk as soon as it is full, and
 * hands out the outcomes in input order or completion order. An error thrown by the iterable
 * takes the place of the item it failed to produce.
 */
export class ChunkFeed {
  readonly #chunks: Promise<Outcome>[] = [];
  readonly #completed: Outcome[] = [];
  #done = false;
  #stopped = false;
  #aborted: { error: unknown } | undefined;
  #wake: (() => void) | undefined;
  #wakePuller: (() => void) | undefined;
  #yielded = 0;
  /** Chunks the consumer has taken; the puller stays at most `#window` chunks ahead of it. */
  #consumed = 0;
  readonly #window: number;
  /** After close(): the window counts the chunks still running instead (see release()). */
  #released = false;

  /** Settles once the iterable is exhausted (or failed, or the consumer stopped). */
  readonly fed: Promise<void>;

  constructor(
    iterable: Input<unknown>,
    readonly size: number,
    window: number,
    readonly submit: (items: unknown[]) => Promise<unknown[]>,
  ) {
    this.#window = window;
    this.fed = this.#pull(iterable);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #waitForChange(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #taken(chunks: number): void {
    this.#consumed = chunks;
    this.#makeRoom();
  }

  #makeRoom(): void {
    const wake = this.#wakePuller;
    this.#wakePuller = undefined;
    wake?.();
  }

  #full(): boolean {
    const ahead = this.#chunks.length - (this.#released ? this.#completed.length : this.#consumed);
    return ahead >= this.#window;
  }

  #waitForRoom(): Promise<void> {
    return new Promise((resolve) => (this.#wakePuller = resolve));
  }

  #add(outcome: Promise<Outcome>): void {
    this.#chunks.push(outcome);
    void outcome.then((o) => {
      this.#completed.push(o);
      this.#notify();
      if (this.#released) this.#makeRoom();
    });
    this.#notify();
  }

  #flush(batch: unknown[]): void {
    this.#add(
      this.submit(batch).then(
        (values): Outcome => ({ ok: true, values }),
        (error: unknown): Outcome => ({ ok: false, error }),
      ),
    );
  }

  async #pull(iterable: Input<unknown>): Promise<void> {
    let batch: unknown[] = [];
    try {
      const iterator = isAsyncIterable(iterable)
        ? iterable[Symbol.asyncIterator]()
        : (iterable as Iterable<unknown>)[Symbol.iterator]();
      for (;;) {
        if (this.#stopped) {
          await iterator.return?.();
          return;
        }
        const step = await iterator.next();
        if (step.done) break;
        batch.push(step.value);
        if (batch.length >= this.size) {
          this.#flush(batch);
          batch = [];
          while (!this.#stopped && this.#full()) await this.#waitForRoom();
        }
      }
      if (batch.length > 0) this.#flush(batch);
    } catch (error) {
      if (batch.length > 0) this.#flush(batch);
      this.#add(Promise.resolve({ ok: false, error }));
    } finally {
      this.#done = true;
      this.#notify();
    }
  }

  async *inOrder(): AsyncGenerator<unknown> {
    for (let i = 0; ; i++) {
      this.#taken(i);
      while (i >= this.#chunks.length) {
        if (this.#aborted) throw this.#aborted.error;
        if (this.#done) return;
        await this.#waitForChange();
      }
      // A submitted chunk settles on terminate() too: the backend rejects it.
      const outcome = await this.#chunks[i]!;
      if (!outcome.ok) throw outcome.error;
      yield* outcome.values;
    }
  }

  async *inCompletionOrder(): AsyncGenerator<unknown> {
    for (;;) {
      while (this.#yielded >= this.#completed.length) {
        if (this.#aborted) throw this.#aborted.error;
        if (this.#done && this.#yielded >= this.#chunks.length) return;
        await this.#waitForChange();
      }
      const outcome = this.#completed[this.#yielded++]!;
      this.#taken(this.#yielded);
      if (!outcome.ok) throw outcome.error;
      yield* outcome.values;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#taken(this.#consumed);
  }

  /**
   * close(): the whole input counts as submitted (as in Python), so read it all even if nobody
   * consumes the results, and join() does not wait on a consumer that may never come. Still at
   * most `#window` chunks run or wait at the pool at a time: the rest is read as they finish, so
   * an endless input neither floods the pool nor starves the event loop.
   */
  release(): void {
    this.#released = true;
    this.#makeRoom();
  }

  /** terminate(): the consumer gets `error` now, even while the input is still being read. */
  abort(error: unknown): void {
    this.#aborted = { error };
    this.stop();
    this.#notify();
  }
}
