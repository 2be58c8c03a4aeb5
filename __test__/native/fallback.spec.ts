import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import test from 'ava';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/run-kernels.ts', import.meta.url));

async function kernelsIn(env: Record<string, string | undefined>) {
  const { stdout, stderr } = await run(process.execPath, ['--import=tsx', fixture], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { result: JSON.parse(stdout) as Record<string, unknown>, stderr };
}

test('forcing the pure-TypeScript fallback gives the same results, Pool included', async (t) => {
  const [withNative, fallback] = await Promise.all([
    kernelsIn({ NAPI_MULTIPROCESSING_NO_NATIVE: undefined }),
    kernelsIn({ NAPI_MULTIPROCESSING_NO_NATIVE: '1' }),
  ]);
  t.true(withNative.result.available, 'the native binary is built, so it must load');
  t.false(fallback.result.available);
  const { available: _a, ...nativeValues } = withNative.result;
  const { available: _b, ...fallbackValues } = fallback.result;
  t.deepEqual(fallbackValues, nativeValues);
  t.is(withNative.result.sumPrimes, 454396537);
});
