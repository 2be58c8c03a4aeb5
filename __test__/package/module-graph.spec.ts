import { fileURLToPath } from 'node:url';

import test from 'ava';

import { runNode } from '../helpers/node.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs an ES module snippet in a fresh node (with tsx) at the repository root; returns its JSON output. */
async function inFreshNode(code: string): Promise<unknown> {
  const run = await runNode(['--import=tsx', '--input-type=module', '-e', code], { cwd: root });
  if (run.code !== 0 || run.stderr !== '') throw new Error(`child failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** The modules a fresh node has loaded through require() whose path names the native loader or an addon. */
const nativeModulesLoaded = `
  const { createRequire } = await import('node:module');
  const cache = createRequire(process.cwd() + '/').cache;
  const loaded = Object.keys(cache).filter((path) => /binding\\.cjs$|\\.node$/.test(path));
`;

test('importing task() and its types does not load the native addon; importing `native` does when one is built', async (t) => {
  const fromTask = await inFreshNode(`
    await import('./src/task.ts');
    ${nativeModulesLoaded}
    console.log(JSON.stringify(loaded));
  `);
  t.deepEqual(fromTask, []);
  // The probe itself sees the addon when the API loads it, so the empty list above means something.
  const fromApi = (await inFreshNode(`
    const { native } = await import('./src/native/api.ts');
    ${nativeModulesLoaded}
    console.log(JSON.stringify({ available: native.available, loaded }));
  `)) as { available: boolean; loaded: string[] };
  if (fromApi.available) t.true(fromApi.loaded.some((path) => path.endsWith('binding.cjs')));
  else t.deepEqual(fromApi.loaded, []);
});
