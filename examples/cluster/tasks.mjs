// The functions cluster workers serve. Start a worker (on every machine, in a copy of this package):
//   npx napi-multiprocessing worker --connection redis://127.0.0.1:6379 --processes 2 --tasks examples/cluster/tasks.mjs
// Inside a package with a name, this module travels as 'napi-multiprocessing/examples/cluster/tasks.mjs',
// so a worker finds it wherever the package lives on its machine.

export function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export function sumPrimes(n) {
  let sum = 0;
  for (let i = 2; i < n; i++) if (isPrime(i)) sum += i;
  return sum;
}

export function checkOrder(order) {
  if (!order.items?.length) throw Object.assign(new RangeError(`order ${order.id} has no items`), { code: 'E_EMPTY' });
  return { id: order.id, total: order.items.reduce((sum, item) => sum + item.price * item.qty, 0) };
}
