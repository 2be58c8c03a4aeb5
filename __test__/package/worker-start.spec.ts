import { fileURLToPath } from 'node:url';

import test from 'ava';

import { runNode } from '../helpers/node.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).href;

// Node loads ES modules through require() quietly from 20.19, 22.13 and 23.5 on.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const requiresEsm = major === 20 ? minor >= 19 : major === 22 ? minor >= 13 : major === 23 ? minor >= 5 : major >= 24;

/** Runs the built package (no tsx, as users run it) in a fresh node; returns its JSON output. */
async function withBuild(backend: 'thread' | 'process', body: string): Promise<unknown> {
  const code = `
    const { Pool, task } = await import('./dist/index.js');
    const pool = new Pool({ backend: '${backend}', processes: 1 });
    try { ${body} } finally { await pool.terminate(); }
  `;
  const run = await runNode(['--input-type=module', '-e', code], { cwd: root });
  if (run.code !== 0 || run.stderr !== '') throw new Error(`child failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

for (const backend of ['thread', 'process'] as const) {
  test(`${backend} backend: a worker running a plain .mjs task never starts the asynchronous ES module loader, where require() loads ES modules`, async (t) => {
    const started = await withBuild(
      backend,
      `console.log(JSON.stringify(await pool.apply(task(new URL('${fixture('loader-modules.mjs')}'), 'asyncLoaderStarted'), [])));`,
    );
    t.is(started, !requiresEsm);
  });

  test(`${backend} backend: a worker the CommonJS start began runs a plain .mjs task without Node's ES module resolver`, async (t) => {
    const loaded = await withBuild(
      backend,
      `console.log(JSON.stringify(await pool.apply(task(new URL('${fixture('loader-modules.mjs')}'), 'resolverLoaded'), [])));`,
    );
    // The CommonJS start is used on Node 20 only (src/worker/spawn.ts); elsewhere worker.js imports.
    t.is(loaded, !(major === 20 && requiresEsm));
  });

  test(`${backend} backend: task modules require() refuses or would change still load as import() loads them`, async (t) => {
    const results = await withBuild(
      backend,
      `console.log(JSON.stringify([
        await pool.apply(task(new URL('${fixture('top-level-await.mjs')}'), 'plusOne'), [41]),
        await pool.apply(task(new URL('${fixture('commonjs-js/tasks.js')}'), 'default'), [84]),
        await pool.apply(task(new URL('${fixture('tasks.cjs')}'), 'cube'), [3]),
      ]));`,
    );
    t.deepEqual(results, [42, 42, 27]);
  });

  test(`${backend} backend: a missing task module or export fails as import() fails it`, async (t) => {
    const errors = await withBuild(
      backend,
      `const failure = (promise) => promise.then(() => null, (error) => ({ name: error.name, code: error.code, message: error.message }));
      console.log(JSON.stringify([
        await failure(pool.apply(task(new URL('${fixture('does-not-exist.mjs')}'), 'x'), [])),
        await failure(pool.apply(task(new URL('${fixture('tasks.mjs')}'), 'missing'), [])),
      ]));`,
    );
    const [missingModule, missingExport] = errors as { name: string; code?: string; message: string }[];
    t.like(missingModule, { name: 'Error', code: 'ERR_MODULE_NOT_FOUND' });
    t.regex(missingModule!.message, /^Cannot find module '.*does-not-exist\.mjs'/);
    t.like(missingExport, { name: 'TypeError' });
    t.regex(missingExport!.message, /no exported function 'missing'/);
  });
}
