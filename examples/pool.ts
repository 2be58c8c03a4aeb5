/**
 * The seed's Pool examples on child processes: Pool(4).map, applyAsync with a callback,
 * close() then join(), imap (input order) and imapUnordered (completion order).
 *
 *   node --import tsx examples/pool.ts
 */
import { Pool } from 'napi-multiprocessing';

const square = (x: number) => x * x;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

{
  await using pool = new Pool({ processes: 4, backend: 'process' });
  console.log(await pool.map(square, range(10)));
  const result = pool.applyAsync(square, [10], { callback: (value) => console.log('callback', value) });
  console.log(await result.get(60_000)); // TimeoutError if it takes longer; the work goes on
  const ordered: number[] = [];
  for await (const value of pool.imap(square, range(10))) ordered.push(value);
  console.log(ordered);
  const unordered: number[] = [];
  for await (const value of pool.imapUnordered(square, range(10))) unordered.push(value);
  console.log(unordered.sort((a, b) => a - b));
}

// Python's pattern: submit, close(), join(); every callback has run when join() returns.
const pool = new Pool({ processes: 4, backend: 'process' });
const done: string[] = [];
for (let i = 0; i < 5; i++) pool.applyAsync(square, [i], { callback: (value) => done.push(`${i}^2=${value}`) });
console.log('Waiting for all subprocesses done...');
pool.close();
await pool.join();
console.log(done.sort().join(' '));
console.log('All subprocesses done.');
