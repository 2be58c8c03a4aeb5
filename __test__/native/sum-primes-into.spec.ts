import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import test from 'ava';

import { native, SharedArray, Value } from '../../index.js';

const SEED = Array.from({ length: 200 }, (_, i) => i * 500);
const SEED_CHECKSUM = 31007039440;

test('results land in a SharedArray, each equal to sumPrimes, and the Promise resolves with it', async (t) => {
  const out = new SharedArray('d', SEED.length);
  const resolved = await native.sumPrimesInto(Uint32Array.from(SEED), out, { threads: 2 });
  t.is(resolved, out);
  t.is(
    out.toArray().reduce((a, b) => a + b, 0),
    SEED_CHECKSUM,
  );
  for (const i of [0, 1, 57, 199]) t.is(out.get(i), native.sumPrimes(SEED[i]!));
});

test('64-bit outputs and plain typed arrays on a SharedArrayBuffer', async (t) => {
  const q = new SharedArray('Q', 3);
  await native.sumPrimesInto([10, 100, 1000], q);
  t.deepEqual(q.toArray(), [17n, 1060n, 76127n]);
  const signed = new BigInt64Array(new SharedArrayBuffer(8 * 2));
  await native.sumPrimesInto([100000, 2], signed, { threads: 1 });
  t.deepEqual([...signed], [454396537n, 0n]);
  const f64 = new Float64Array(new SharedArrayBuffer(8));
  await native.sumPrimesInto(new Uint32Array([100000]), f64);
  t.is(f64[0], 454396537);
});

test('progress is seen rising while the native run is in flight', async (t) => {
  // Large enough (seconds of work even on 2 threads) that a 1 ms timer samples it mid-way.
  const inputs = Array.from({ length: 400 }, (_, i) => 150_000 + i * 250);
  const out = new SharedArray('Q', inputs.length);
  const progress = new Value('I', 0);
  const samples: number[] = [];
  const partial: boolean[] = [];
  const timer = setInterval(() => {
    const p = progress.value;
    samples.push(p);
    // Results are readable live too: a finished input's slot is non-zero.
    if (p > 0 && p < inputs.length) partial.push(out.toArray().some((v) => v > 0n));
  }, 1);
  const deadline = setTimeout(() => t.fail('sumPrimesInto did not finish in 100 s'), 100_000);
  await native.sumPrimesInto(inputs, out, { threads: 2, progress });
  clearInterval(timer);
  clearTimeout(deadline);
  t.is(progress.value, inputs.length);
  const between = samples.filter((p) => p > 0 && p < inputs.length);
  t.true(between.length >= 1, `progress seen strictly between 0 and ${inputs.length}: ${between.length} samples`);
  t.true(new Set(between).size >= 2, 'progress was seen at two different values mid-way');
  for (let i = 1; i < samples.length; i++) t.true(samples[i]! >= samples[i - 1]!, 'progress never goes back');
  t.true(partial.length > 0 && partial.every(Boolean));
  t.deepEqual(out.get(0), native.sumPrimesBigInt(inputs[0]!));
});

test('bad arguments: clear TypeError/RangeError naming the argument', async (t) => {
  const out = new SharedArray('d', 2);
  await t.throwsAsync(() => native.sumPrimesInto([1, 2, 3], out), { instanceOf: RangeError, message: /"out".*same length/ });
  await t.throwsAsync(() => native.sumPrimesInto([1, 2], new Float64Array(2)), {
    instanceOf: TypeError,
    message: /SharedArrayBuffer/,
  });
  await t.throwsAsync(() => native.sumPrimesInto([1, 2], new SharedArray('i', 2) as never), {
    instanceOf: TypeError,
    message: /typecode/,
  });
  await t.throwsAsync(() => native.sumPrimesInto([1, -2], out), { instanceOf: RangeError, message: /"inputs\[1\]"/ });
  await t.throwsAsync(() => native.sumPrimesInto([1, 0.5], out), { instanceOf: RangeError });
  await t.throwsAsync(() => native.sumPrimesInto('12' as never, out), { instanceOf: TypeError, message: /"inputs"/ });
  await t.throwsAsync(() => native.sumPrimesInto([1, 2], out, { threads: 0 }), {
    instanceOf: RangeError,
    message: /"options.threads"/,
  });
  await t.throwsAsync(() => native.sumPrimesInto([1, 2], out, { progress: new Value('d') as never }), {
    instanceOf: TypeError,
    message: /"options.progress"/,
  });
  await t.throwsAsync(() => native.sumPrimesInto([1, 2], out, { progress: 5 as never }), { instanceOf: TypeError });
});

test('without the native binary, the pure-TypeScript fallback gives the same results and progress', async (t) => {
  const script = `
    import { native, SharedArray, Value } from ${JSON.stringify(new URL('../../index.ts', import.meta.url).href)};
    const out = new SharedArray('d', 50);
    const progress = new Value('i', 0);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await native.sumPrimesInto(Array.from({ length: 50 }, (_, i) => i * 1000), out, { progress });
    clearInterval(timer);
    process.stdout.write(JSON.stringify({ available: native.available, sum: out.toArray().reduce((a, b) => a + b, 0), progress: progress.value, ticks }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, NAPI_MULTIPROCESSING_NO_NATIVE: '1' },
    timeout: 60_000,
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  const result = JSON.parse(stdout);
  const expected = Array.from({ length: 50 }, (_, i) => native.sumPrimes(i * 1000)).reduce((a, b) => a + b, 0);
  t.false(result.available);
  t.is(result.sum, expected);
  t.is(result.progress, 50);
  t.true(result.ticks > 0, 'the event loop kept running during the fallback');
});
