/**
 * Python's `class MyProcess(Process): def run(self)`: a subclass overrides run(), which runs in
 * the new worker with `this` holding a copy of the instance's fields (shared objects among them
 * stay shared), plus `this.name` and `this.pid`.
 *
 *   node --import tsx examples/my-process.ts
 */
import { Process, Value } from '../index.js';

class MyProcess extends Process {
  readonly total: Value<'i'>;
  constructor(readonly n: number, total: Value<'i'>) {
    super();
    this.total = total;
  }

  override run() {
    console.log(`hello from ${this.name}: n = ${this.n}`);
    this.total.value += this.n;
  }
}

const total = new Value('i', 0);
const processes = [1, 2, 3].map((n) => new MyProcess(n, total));
for (const p of processes) {
  p.start();
  await p.join(); // one after another, so the lines come in order
}
console.log(`names: ${processes.map((p) => p.name).join(', ')}`);
console.log(`exit codes: ${processes.map((p) => p.exitCode).join(', ')}`);
console.log(`total: ${total.value}`);
