// The target of examples/manager.ts, run in each process.
import type { DictProxy, ListProxy } from 'napi-multiprocessing';

export async function f(d: DictProxy<number | string, string | number | null>, l: ListProxy<number>, n: number): Promise<void> {
  await d.set(n, '1');
  await d.set('2', 2);
  await d.set(0.25, null);
  await l.append(n);
}
