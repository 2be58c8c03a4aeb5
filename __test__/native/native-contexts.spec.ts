import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';

import { native } from '../../index.js';
import { tsWorker } from '../helpers/ts-worker.js';

const inWorker = new URL('../fixtures/native-in-worker.ts', import.meta.url);
const inChild = fileURLToPath(new URL('../fixtures/run-kernels.ts', import.meta.url));

function runWorker(inputs: number[]): Promise<{ available: boolean; isPrime97: boolean; sums: number[] }> {
  return new Promise((resolve, reject) => {
    const worker = tsWorker(inWorker, { workerData: { inputs } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

test('the addon loads in several worker_threads at once (context-aware) and each owns a pool', async (t) => {
  const inputs = Array.from({ length: 20 }, (_, i) => i * 1000);
  const results = await Promise.all(Array.from({ length: 4 }, () => runWorker(inputs)));
  const expected = inputs.map((n) => native.sumPrimes(n));
  for (const r of results) {
    t.is(r.available, native.available);
    t.true(r.isPrime97);
    t.deepEqual(r.sums, expected);
  }
});

test('the addon loads in a child process', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import=tsx', inChild], { timeout: 120_000 });
  const result = JSON.parse(stdout);
  t.is(result.available, native.available);
  t.is(result.sumPrimes, 454396537);
});
