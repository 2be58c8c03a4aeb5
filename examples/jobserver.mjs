// Parallel Python's job server. Local workers only:
//   node examples/jobserver.mjs
// With a cluster as well (start workers as in examples/cluster/main.mjs):
//   node examples/jobserver.mjs redis://127.0.0.1:6379
import { JobServer, task } from 'napi-multiprocessing';

function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

// Inline: calls isPrime by name, shipped along with it as a depfunc.
function sumPrimes(n) {
  let sum = 0;
  for (let i = 2; i < n; i++) if (isPrime(i)) sum += i;
  return sum;
}

const ppservers = process.argv.slice(2);
const js = new JobServer({ ppservers });
console.log(`Starting pp with ${js.getNcpus()} workers${ppservers.length ? ` and ${ppservers.join(', ')}` : ''}`);
const job1 = js.submit(sumPrimes, [100], { depfuncs: [isPrime] });
console.log('Sum of primes below 100 is', await job1());

const inputs = [100_000, 100_100, 100_200, 100_300, 100_400, 100_500, 100_600, 100_700];
// Inline jobs run locally; module tasks may go to the ppservers too.
const remote = task(new URL('./cluster/tasks.mjs', import.meta.url), 'sumPrimes');
const jobs = inputs.map((n, i) =>
  i % 2 === 0
    ? js.submit(sumPrimes, [n], { depfuncs: [isPrime], group: 'primes' })
    : js.submit(remote, [n], { callback: (label, sum) => console.log(label, sum), callbackargs: [`callback n=${n}:`], group: 'primes' }),
);
await js.wait('primes');
for (const [i, job] of jobs.entries()) console.log(`Sum of primes below ${inputs[i]} is`, await job());
js.printStats();
await js.destroy();
