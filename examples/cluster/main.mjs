// A cluster Pool: the same API as on one machine, with workers wherever they run.
//   redis-server --port 6379 &
//   npx napi-multiprocessing worker --connection redis://127.0.0.1:6379 --tasks examples/cluster/tasks.mjs &   (one or more)
//   node examples/cluster/main.mjs [redis://127.0.0.1:6379]
import { Pool, native, task } from 'napi-multiprocessing';

const connection = process.argv[2] ?? 'redis://127.0.0.1:6379';
const tasks = new URL('./tasks.mjs', import.meta.url);
const sumPrimes = task(tasks, 'sumPrimes');
const checkOrder = task(tasks, 'checkOrder');

// processes: the number of workers across the cluster, which sizes the chunks (four per worker).
const pool = new Pool({ backend: 'cluster', connection, processes: 2 });
try {
  const xs = Array.from({ length: 200 }, (_, i) => i * 500);
  const sums = await pool.map(sumPrimes, xs); // 8 jobs, results in input order
  console.log('checksum', sums.reduce((a, b) => a + b, 0)); // 31007039440
  console.log('native', await pool.map(native.sumPrimes, [10, 100, 1000])); // [17, 1060, 76127]
  try {
    await pool.apply(checkOrder, [{ id: 7, items: [] }]);
  } catch (error) {
    console.log('error', error.name, error.code, error.message); // RangeError E_EMPTY order 7 has no items
  }
  try {
    await pool.apply((x) => x * 2, [1]);
  } catch (error) {
    console.log(error.name, /refuses inline functions[^.]*/.exec(error.message)?.[0]); // never through Redis
  }
} finally {
  pool.close();
  await pool.join();
}
