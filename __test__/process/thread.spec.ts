import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { deserialize } from 'node:v8';

import test from 'ava';

import { Pool, Process, Queue, Thread, Value, currentThread, mainThread, task } from '../../index.js';
import { backends, within } from '../helpers/pool.js';
import { runNode } from '../helpers/node.js';

const infoUrl = new URL('../fixtures/thread-info.mjs', import.meta.url);
const threadName = task<() => string>(infoUrl, 'threadName');

test('currentThread() is MainThread on the main thread; mainThread() says the same', (t) => {
  t.is(currentThread().name, 'MainThread');
  t.is(currentThread().ident, 0);
  t.is(mainThread().name, 'MainThread');
});

test('Thread: a Process on the thread backend, named Thread-N; currentThread() inside says its name', async (t) => {
  const q = new Queue<string>();
  const a = new Thread({ target: task(infoUrl, 'threadName') });
  const b = new Thread({ target: (queue: Queue<string>) => queue.put('ran'), args: [q] });
  t.regex(a.name, /^Thread-\d+$/);
  t.is(Number(b.name.slice(7)), Number(a.name.slice(7)) + 1);
  t.is(a.backend, 'thread');
  t.true(a instanceof Process);
  b.start();
  t.is(await within(t, 30_000, q.get()), 'ran');
  await within(t, 30_000, b.join());
  t.is(b.exitCode, 0);
  t.throws(() => new Thread({ target: () => 1, backend: 'process' } as never), {
    code: 'ERR_INVALID_ARG_VALUE',
    message: /"options.backend"/,
  });
  await using pool = new Pool({ backend: 'thread', processes: 1 });
  t.regex(await pool.apply(threadName), /^PoolWorker-\d+$/);
  await using procs = new Pool({ backend: 'process', processes: 1 });
  t.is(await procs.apply(threadName), 'MainThread', "a child process's main thread, as in Python");
});

test("console.log shows a Thread as a Thread and a Process as a Process, as Python's repr does", (t) => {
  t.regex(inspect(new Thread({ target: () => 1 })), /^<Thread name='Thread-\d+' initial>$/);
  t.regex(inspect(new Process({ target: () => 1, daemon: true })), /^<Process name='Process-\d+' initial daemon>$/);
});

test('a subclass run() in a Thread sees its own name through currentThread()', async (t) => {
  class Named extends Thread {
    constructor(readonly out: Queue<string>) {
      super();
    }
    override async run() {
      const { currentThread } = await import(this.url);
      this.out.put(`${currentThread().name}=${this.name}`);
    }
    readonly url = new URL('../../index.ts', import.meta.url).href;
  }
  const q = new Queue<string>();
  const th = new Named(q);
  // Python's threading names a subclass's threads Thread-N too (multiprocessing uses the class name).
  t.regex(th.name, /^Thread-\d+$/);
  th.start();
  t.is(await within(t, 30_000, q.get()), `${th.name}=${th.name}`);
  await th.join();
  t.is(th.exitCode, 0);
});

for (const backend of backends) {
  test(`${backend}: a Process subclass overriding run() runs it in the worker with its fields as this`, async (t) => {
    class MyProcess extends Process {
      readonly extra = { list: [1, 2], map: new Map([['k', 'v']]) };
      constructor(
        readonly n: number,
        readonly out: string,
      ) {
        super({ backend });
      }
      override run() {
        const seen = { n: this.n, extra: this.extra, name: this.name, pid: this.pid };
        const { writeFileSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');
        writeFileSync(this.out, (process.getBuiltinModule('node:v8') as typeof import('node:v8')).serialize(seen));
      }
    }
    const out = join(mkdtempSync(join(tmpdir(), 'napi-mp-run-')), 'seen');
    const p = new MyProcess(3, out);
    t.regex(p.name, /^MyProcess-\d+$/);
    p.start();
    await within(t, 30_000, p.join());
    t.is(p.exitCode, 0);
    const seen = deserialize(readFileSync(out)) as Record<string, unknown>;
    t.deepEqual(seen, { n: 3, extra: { list: [1, 2], map: new Map([['k', 'v']]) }, name: p.name, pid: p.pid });
  });

  test(`${backend}: async run() and a throwing run() end the process with 0 and 1`, async (t) => {
    class Waits extends Process {
      constructor() {
        super({ backend });
      }
      override async run() {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    class Throws extends Process {
      constructor() {
        super({ backend, name: 'thrower' });
      }
      override run() {
        throw new Error('expected failure in run()');
      }
    }
    const ok = new Waits();
    ok.start();
    await within(t, 30_000, ok.join());
    t.is(ok.exitCode, 0);
    const bad = new Throws();
    t.is(bad.name, 'thrower');
    const write = process.stderr.write;
    // The failure's report is expected: keep it out of the test output.
    process.stderr.write = (() => true) as never;
    try {
      bad.start();
      await within(t, 30_000, bad.join());
    } finally {
      process.stderr.write = write;
    }
    t.is(bad.exitCode, 1);
  });
}

test('a thread Process subclass: a shared Value among its fields arrives working', async (t) => {
  class Adds extends Process {
    constructor(
      readonly total: Value<'i'>,
      readonly n: number,
    ) {
      super();
    }
    override run() {
      this.total.value += this.n;
    }
  }
  const total = new Value('i', 1);
  const p = new Adds(total, 41);
  p.start();
  await within(t, 30_000, p.join());
  t.is(total.value, 42);
});

test('no target and no run() override: TypeError at start(); options stay checked', (t) => {
  class Empty extends Process {}
  const p = new Empty();
  t.throws(() => p.start(), { code: 'ERR_INVALID_ARG_TYPE', message: /override run\(\)/ });
  t.throws(() => new Process().start(), { code: 'ERR_INVALID_ARG_TYPE', message: /pass a target/ });
  t.throws(() => new Process({ targt: () => 1 } as never), { code: 'ERR_INVALID_ARG_VALUE', message: /did you mean "target"/ });
  t.is(new Process({ target: () => 1 }).name.split('-')[0], 'Process');
});

test('Process.run() called directly runs the target here, as in Python', async (t) => {
  const seen: number[] = [];
  const p = new Process({ target: (x: number) => seen.push(x), args: [7] });
  await p.run();
  t.deepEqual(seen, [7]);
});

for (const [file, expected] of [
  [
    'my-process.ts',
    [
      'hello from MyProcess-1: n = 1',
      'hello from MyProcess-2: n = 2',
      'hello from MyProcess-3: n = 3',
      'names: MyProcess-1, MyProcess-2, MyProcess-3',
      'exit codes: 0, 0, 0',
      'total: 6',
    ],
  ],
  ['thread-music.ts', ['playing the song (1/2)', 'playing the song (2/2)', 'MainThread waited for Thread-1; exit code 0']],
] as const) {
  test(`examples/${file} prints what the Python original does`, async (t) => {
    const run = await runNode(['--import', 'tsx', fileURLToPath(new URL(`../../examples/${file}`, import.meta.url))]);
    t.is(run.stderr, '');
    t.is(run.code, 0);
    t.deepEqual(run.stdout.trim().split('\n'), [...expected]);
  });
}
