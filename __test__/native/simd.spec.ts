import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import test from 'ava';

import { native } from '../../index.js';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/simd-kernels.ts', import.meta.url));
const PATHS = ['avx512', 'avx2', 'neon', 'scalar'] as const;

interface Outcome {
  simd: string;
  available: boolean;
  primes: number[];
  bigints: boolean[];
  sums: number[];
  pooled: number[];
  pooledPrimes: boolean[];
}

async function kernelsWith(env: Record<string, string | undefined>): Promise<{ out: Outcome; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, ['--import=tsx', fixture], {
    env: { ...process.env, NAPI_MULTIPROCESSING_SIMD: undefined, ...env },
    timeout: 90_000,
  });
  return { out: JSON.parse(stdout) as Outcome, stderr };
}

const results = (o: Outcome) => ({
  primes: o.primes,
  bigints: o.bigints,
  sums: o.sums,
  pooled: o.pooled,
  pooledPrimes: o.pooledPrimes,
});

test('native.simd names the path, and is "scalar" in the pure-TypeScript fallback', async (t) => {
  t.true((PATHS as readonly string[]).includes(native.simd), native.simd);
  const index = new URL('../../index.ts', import.meta.url).href;
  const script = `import { native } from '${index}'; process.stdout.write(JSON.stringify([native.available, native.simd]));`;
  const { stdout } = await run(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, NAPI_MULTIPROCESSING_NO_NATIVE: '1', NAPI_MULTIPROCESSING_SIMD: 'avx2' },
    timeout: 60_000,
  });
  t.deepEqual(JSON.parse(stdout), [false, 'scalar']);
});

test('every path this CPU supports gives the scalar loop’s answers; a missing or unknown one falls back with a warning', async (t) => {
  const [auto, bogus, ...forced] = await Promise.all([
    kernelsWith({}),
    kernelsWith({ NAPI_MULTIPROCESSING_SIMD: 'sse9' }),
    ...PATHS.map((path) => kernelsWith({ NAPI_MULTIPROCESSING_SIMD: path })),
  ]);
  const scalar = forced[PATHS.indexOf('scalar')]!;
  t.is(scalar.out.simd, 'scalar');
  t.is(
    scalar.out.sums.reduce((a, b) => a + b, 0),
    31007039440,
  );
  t.deepEqual(scalar.out.pooled, scalar.out.sums);
  const supported = PATHS.filter((path, i) => forced[i]!.out.simd === path);
  t.true(supported.length < PATHS.length, 'no CPU has both the x86 and the Arm paths');
  // Unset: the widest supported path, silently.
  t.is(auto.out.simd, supported[0]!);
  t.is(auto.stderr, '');
  for (const [i, path] of PATHS.entries()) {
    const { out, stderr } = forced[i]!;
    t.deepEqual(results(out), results(scalar.out), `${path} (ran as ${out.simd})`);
    if (supported.includes(path)) {
      t.is(stderr, '', path);
    } else {
      t.is(out.simd, auto.out.simd, `${path} falls back to the automatic choice`);
      t.regex(stderr, new RegExp(`NAPI_MULTIPROCESSING_SIMD=${path}: this CPU does not support ${path}; using ${out.simd}`));
    }
  }
  t.is(bogus.out.simd, auto.out.simd);
  t.regex(bogus.stderr, /NAPI_MULTIPROCESSING_SIMD=sse9 is not one of auto, avx512, avx2, neon, scalar/);
  t.deepEqual(results(bogus.out), results(scalar.out));
});
