/**
 * The worker program's first file, CommonJS on purpose: it require()s the ES module worker, so a
 * worker that runs plain tasks never starts Node's asynchronous ES module loader (see
 * require_esm.ts). Spawned only where the parent found require() of ES modules quiet and safe;
 * the worker's modules have no top-level await, which require() would refuse.
 *
 * It loads the bundle's shared file (which holds the worker program, entry.ts) rather than
 * worker.js, whose one import of it would cost a worker Node's whole ES module resolver.
 */
// What lets the worker require() its task modules too (REQUIRE_ESM in require_esm.ts).
(globalThis as Record<symbol, unknown>)[Symbol.for('napi-multiprocessing.require-esm')] = require;
require('./shared.js');
// WORKER_PROGRAM in entry.ts.
((globalThis as Record<symbol, unknown>)[Symbol.for('napi-multiprocessing.run-worker')] as () => void)();
