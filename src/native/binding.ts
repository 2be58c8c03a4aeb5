/**
 * Loads the native addon once (or finds that none loads) and maps its errors to the contract's.
 * Everything that calls into Rust imports `binding` from here, so the API, `sumPrimesInto` and
 * the native pool backend share one copy without importing each other.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

import { PoolTerminatedError } from '../errors.js';
import { rangeError } from '../validate.js';
import type * as BindingModule from '../../native/binding.js';

export type Binding = typeof BindingModule;

/** Set to `1` to ignore the native binary and use the pure-TypeScript kernels. */
export const NO_NATIVE_ENV = 'NAPI_MULTIPROCESSING_NO_NATIVE';

function loadBinding(): Binding | null {
  if (process.env[NO_NATIVE_ENV] === '1') return null;
  try {
    // The loader sits two folders up from this source file, one up from the bundle in dist/.
    const loader = import.meta.url.endsWith('.ts') ? '../../native/binding.cjs' : '../native/binding.cjs';
    return createRequire(import.meta.url)(loader) as Binding;
  } catch (error) {
    // One warning from the main thread; workers and children fall back quietly.
    if (isMainThread && !process.env.NAPI_MULTIPROCESSING_CHILD) {
      // The loader's own text goes on to blame npm's optional-dependency bug, which is the wrong
      // lead for an unsupported platform or --omit=optional: keep its first sentence only.
      const cause = error instanceof Error ? error.message.split('\n')[0]!.replace(/\.\s+npm has a bug.*$/, '.') : String(error);
      process.emitWarning(
        `napi-multiprocessing: no prebuilt native binary loads on ${process.platform}-${process.arch}; ` +
          `using the pure-TypeScript kernels (same results, slower). Cause: ${cause}`,
        { code: 'NAPI_MULTIPROCESSING_NO_NATIVE' },
      );
    }
    return null;
  }
}

/** The loaded addon, or null when the pure-TS kernels are in use. Internal. */
export const binding: Binding | null = loadBinding();

/** Turns an error from the addon into the JS error class the contract promises. */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'InvalidArg') return rangeError(error.message);
  if (code === 'Cancelled') return new PoolTerminatedError(error.message);
  return error;
}
