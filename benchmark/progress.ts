/**
 * Progress on stderr, so stdout stays the table (pipeable into a file or a README). On a terminal
 * it is one bar redrawn in place; elsewhere (CI logs, a test spawning the CLI) it is plain lines,
 * with no escape codes to garble the log.
 */
export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #total: number;
  #done = 0;
  #label = '';
  #lastDraw = 0;

  /** `total` is the number of steps (runs, start-ups) the whole benchmark will report. */
  constructor(total: number, stream: NodeJS.WriteStream = process.stderr, enabled = true) {
    this.#stream = stream;
    this.#tty = enabled && Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
    this.#total = Math.max(1, total);
    if (!enabled) this.#stream = nullStream;
  }

  /** A new engine or phase begins; on a non-TTY this is the one line it prints. */
  begin(label: string): void {
    this.#label = label;
    if (this.#tty) this.#draw(true);
    else this.#stream.write(`[${this.#percent().padStart(4)}] ${label}\n`);
  }

  step(count = 1): void {
    this.#done = Math.min(this.#total, this.#done + count);
    if (this.#tty) this.#draw(false);
  }

  /**
   * A phase worth `budget` steps whose exact count of runs is not known in advance (benchmark.js
   * may repeat a fast run within one sample): ticks beyond the budget are ignored, and done() tops
   * the phase up, so the bar neither stalls nor overshoots.
   */
  phase(budget: number): { tick(): void; done(): void } {
    let used = 0;
    return {
      tick: () => {
        if (used < budget) {
          used++;
          this.step();
        }
      },
      done: () => {
        if (used < budget) this.step(budget - used);
        used = budget;
      },
    };
  }

  /** Ends a phase with its outcome (e.g. "312 ms" or "not installed"). */
  end(outcome: string): void {
    if (this.#tty) this.#clear();
    this.#stream.write(`  ${this.#label}: ${outcome}\n`);
    if (this.#tty) this.#draw(true);
  }

  finish(): void {
    if (this.#tty) this.#clear();
  }

  #percent(): string {
    return `${Math.floor((100 * this.#done) / this.#total)}%`;
  }

  #clear(): void {
    this.#stream.write('\r\x1b[2K');
  }

  #draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.#lastDraw < 50) return; // a redraw per run is plenty; don't flood the terminal
    this.#lastDraw = now;
    const width = 28;
    const filled = Math.round((width * this.#done) / this.#total);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const columns = this.#stream.columns || 80;
    const line = `${bar} ${this.#percent().padStart(4)}  ${this.#label}`;
    this.#stream.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
  }
}

const nullStream = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
