// The seed's Manager example: ten processes write into one dict and append to one list that a
// manager holds. Run: npx tsx examples/manager.ts
import { Manager, Process, task } from 'napi-multiprocessing';

await using manager = new Manager();
const d = await manager.dict<number | string, string | number | null>();
const l = await manager.list([0, 1, 2, 3, 4]);

// The target lives in a module (a process imports it); the proxies arrive working.
const f = task<typeof import('./manager-task.js').f>(new URL('./manager-task.ts', import.meta.url), 'f');
const processes = Array.from({ length: 10 }, (_, i) => new Process({ target: f, args: [d, l, i], backend: 'process' }));
for (const p of processes) p.start();
for (const p of processes) await p.join();

console.log(await d.copy()); // Map(12) { 0 => '1', 1 => '1', …, '2' => 2, 0.25 => null }
console.log(await l.length()); // 15
