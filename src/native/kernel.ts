/**
 * What marks a function as a native kernel. Kept apart from the API so that `task.ts` (and any
 * `import type` of task types) can recognise a kernel without loading the addon.
 */

/** Marks a function as a native kernel, so pools can run it by name in any backend. */
export const kKernel: unique symbol = Symbol.for('napi-multiprocessing.kernel') as never;

export type KernelName = 'isPrime' | 'sumPrimes' | 'sumPrimesBigInt';

/** A native kernel: callable directly, and usable as a task in every Pool backend. */
export type NativeKernel<F extends (...args: never[]) => unknown> = F & { readonly [kKernel]: KernelName };

export function kernelNameOf(fn: unknown): KernelName | undefined {
  return typeof fn === 'function' ? (fn as { [kKernel]?: KernelName })[kKernel] : undefined;
}
