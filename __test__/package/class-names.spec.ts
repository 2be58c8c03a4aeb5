/**
 * The built package, as users import it: a bundler may rename a class that refers to itself
 * (`class _Process`), and a Process's default name is its class's name, so the build must keep
 * the names users see.
 */
import { createRequire } from 'node:module';

import test from 'ava';

const esm = (await import(new URL('../../dist/index.js', import.meta.url).href)) as Record<string, unknown>;
const cjs = createRequire(import.meta.url)('../../dist/index.cjs') as Record<string, unknown>;
// Exported twice on purpose, under Python's two names.
const aliases: Record<string, string> = { Manager: 'SyncManager' };

for (const [build, entry] of [['ESM', esm], ['CommonJS', cjs]] as const) {
  test(`${build} build: every exported class keeps its own name`, (t) => {
    const classes = Object.entries(entry).filter(([key, value]) => typeof value === 'function' && /^[A-Z]/.test(key));
    t.true(classes.length > 20);
    for (const [key, value] of classes) t.is((value as { name: string }).name, aliases[key] ?? key, `export ${key}`);
  });

  test(`${build} build: a Process is named Process-N and a Thread Thread-N, as in Python`, (t) => {
    const { Process, Thread } = entry as unknown as typeof import('../../index.js');
    t.regex(new Process({ target: () => 0 }).name, /^Process-\d+$/);
    t.regex(new Thread({ target: () => 0 }).name, /^Thread-\d+$/);
  });
}
