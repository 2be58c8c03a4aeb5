/**
 * Loading ES modules with require() in a worker, where that is safe.
 *
 * A worker whose entry is CommonJS and that loads its ES modules through require() never starts
 * Node's asynchronous ES module loader (its fs/promises, readline… and the async resolve/load
 * pipeline): some 4 ms of a new worker's start-up on Node 20, most of what separated our pool's
 * start-up from piscina's (whose worker is CommonJS and require()s its task module first).
 */
/** Flags (in execArgv or NODE_OPTIONS) that may customise loading, which require() could bypass. */
const HOOK_FLAG = /(^|\s)(--import|--loader|--experimental-loader|--require|-r)(\s|=|$)/;

/**
 * Node loads ES modules through require() without an experimental warning from 20.19, 22.13 and
 * 23.5 on (22.12 and 23.0–23.4 warn on stderr, older ones refuse). With a loader flag, a module
 * may need hooks that only import() runs (tsx's TypeScript, for one).
 */
export function canRequireEsm(execArgv: readonly string[] = process.execArgv): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const quiet = major === 20 ? minor >= 19 : major === 22 ? minor >= 13 : major === 23 ? minor >= 5 : major >= 24;
  return quiet && !execArgv.some((arg) => HOOK_FLAG.test(arg)) && !HOOK_FLAG.test(process.env.NODE_OPTIONS ?? '');
}

/**
 * The CommonJS start's own require() (start.cts), which the parent picks only where canRequireEsm()
 * holds for the worker's flags. A worker started otherwise (tsx's bootstrap, whose hooks serve
 * import() alone) leaves its task modules to import(). Handed over rather than made here: ES
 * imports of node:module and node:url cost a new worker their ES module facades (about 0.4 ms on
 * Node 20), and this file is among the worker's first.
 */
const REQUIRE_ESM = Symbol.for('napi-multiprocessing.require-esm');

function startRequire(): NodeJS.Require | undefined {
  const handed = (globalThis as Record<symbol, unknown>)[REQUIRE_ESM];
  return typeof handed === 'function' ? (handed as NodeJS.Require) : undefined;
}

/** Codes of a require() that refused an ES module before running any of it: import() loads it. */
const REFUSED = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE', 'ERR_REQUIRE_CYCLE_MODULE']);

/**
 * The namespace of the ES module at `url`, loaded with require(); undefined when import() must
 * load it: not a .js/.mjs file, not requireable here, top-level await, or CommonJS (import() gives
 * that a namespace with `default`, which require() does not; it reuses the loaded module).
 */
export function requireEsm(url: string): Record<string, unknown> | undefined {
  const requireHere = startRequire();
  if (!requireHere || !url.startsWith('file:') || !/\.m?js$/.test(url)) return undefined;
  const path = (requireHere('node:url') as typeof import('node:url')).fileURLToPath(url);
  // No such file: import() reports it (ERR_MODULE_NOT_FOUND), as it would without this shortcut.
  const { statSync } = requireHere('node:fs') as typeof import('node:fs');
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return undefined;
  let loaded: unknown;
  try {
    loaded = requireHere(path);
  } catch (error) {
    if (REFUSED.has((error as { code?: unknown }).code as string)) return undefined;
    throw error;
  }
  return Object.prototype.toString.call(loaded) === '[object Module]' ? (loaded as Record<string, unknown>) : undefined;
}
