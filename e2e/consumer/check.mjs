// Runs inside a throwaway project that installed napi-multiprocessing from the test registry.
// ESM half of the check: the package must load through `import` (its "exports.import").
// Prints one JSON line for e2e/install.mjs to judge.
import { createRequire } from 'node:module';

// A static import would run the package before this listener exists, and the no-native warning
// fires while the package initialises; so register first, then import dynamically.
const warnings = [];
process.on('warning', (w) => warnings.push(w.code ?? w.name));

const { native, Pool } = await import('napi-multiprocessing');

const xs = JSON.parse(process.env.E2E_XS);
const pool = new Pool({ backend: 'native', processes: 2 });
let poolMap;
try {
  poolMap = await pool.map(native.sumPrimes, xs);
} finally {
  pool.close();
  await pool.join();
}
// The worker-thread backend too: proves dist/worker.js ships and starts from node_modules.
const threads = new Pool({ processes: 2 });
let threadMap;
try {
  threadMap = await threads.map((x) => x * x, xs);
} finally {
  threads.close();
  await threads.join();
}
await new Promise((resolve) => setImmediate(resolve));

// The package's loader uses createRequire, which shares this cache with every other require.
const cache = createRequire(import.meta.url).cache;
process.stdout.write(
  JSON.stringify({
    style: 'esm',
    available: native.available,
    sum100k: native.sumPrimes(100000),
    poolMap,
    threadMap,
    loadedAddons: Object.keys(cache).filter((file) => file.endsWith('.node')),
    warnings,
  }) + '\n',
);
