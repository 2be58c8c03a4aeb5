/**
 * Thread pool start-up, ours vs piscina, alternating: `npx tsx benchmark/startup.ts [rounds]`.
 *
 * Each sample is a fresh `node` (no tsx: under tsx our workers would register it too) that imports
 * the built library (`dist/index.js`) or piscina, then times from just before the pool's
 * constructor until each of the 2 workers answered one trivial task, and reports the wall time and
 * the CPU the whole process (every thread) spent in that span. Engines alternate round by round so
 * a change in machine load hits both alike; the medians are what to compare.
 * `STARTUP_NODE=/path/to/node` picks another Node (npx sets NODE); `THREADS=n` another pool size; `BASE` below.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const threads = Number(process.env.THREADS ?? 2);
const rounds = Number(process.argv[2] ?? 30);
const node = process.env.STARTUP_NODE ?? process.execPath;
const tasks = new URL('./tasks/primes.mjs', import.meta.url).href;
const dist = new URL('../dist/index.js', import.meta.url).href;

// The timed span is the same for both: constructor to `threads` answered calls of sumPrimes(0).
const measure = (setup: string, start: string, call: string, close: string) => `
${setup}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
${start}
await Promise.all(Array.from({ length: ${threads} }, () => ${call}));
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
await ${close};
console.log(JSON.stringify({ wall, cpu: (cpu.user + cpu.system) / 1000 }));
`;

const ours = (entry: string) =>
  measure(
    `const { Pool, task } = await import(${JSON.stringify(entry)}); const fn = task(new URL(${JSON.stringify(tasks)}), 'sumPrimes');`,
    `const pool = new Pool({ processes: ${threads} });`,
    'pool.apply(fn, [0])',
    'pool.terminate()',
  );

const engines: Record<string, string> = {
  ours: ours(dist),
  piscina: measure(
    `const { Piscina } = await import('piscina');`,
    `const pool = new Piscina({ filename: ${JSON.stringify(tasks)}, minThreads: ${threads}, maxThreads: ${threads} });`,
    `pool.run(0, { name: 'sumPrimes' })`,
    'pool.destroy()',
  ),
};
// `BASE=/other/checkout/dist/index.js`: another build of ours in the same alternation (before/after).
if (process.env.BASE) engines.base = ours(pathToFileURL(process.env.BASE).href);
type Name = keyof typeof engines;

function sample(name: Name): { wall: number; cpu: number } {
  const out = execFileSync(node, ['--input-type=module', '-e', engines[name]!], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const names = Object.keys(engines);
const results = Object.fromEntries(names.map((name) => [name, { wall: [] as number[], cpu: [] as number[] }]));
for (const name of names) sample(name); // warm the OS file cache for both
for (let round = 0; round < rounds; round++) {
  // Alternate which engine goes first, so neither always follows the other.
  for (const name of round % 2 ? [...names].reverse() : names) {
    const { wall, cpu } = sample(name);
    results[name]!.wall.push(wall);
    results[name]!.cpu.push(cpu);
  }
}
console.log(`${node} (${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}), ${threads} threads, ${rounds} rounds`);
for (const name of names) {
  const r = results[name]!;
  console.log(`${name.padEnd(8)} wall median ${median(r.wall).toFixed(1)} ms  cpu median ${median(r.cpu).toFixed(1)} ms`);
}
