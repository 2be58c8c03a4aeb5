// The built package (what users install), not the TS source the other tests load: a bundler may
// rename a class that refers to itself (`var Process = class _Process`), and Process names its
// instances after its class (`Process-1`), as Python's do.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test from 'ava';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Every exported class, in both builds, with the name it is exported under (Manager is an alias of SyncManager).
const script = `
import { createRequire } from 'node:module';
const builds = { esm: await import('./dist/index.js'), cjs: createRequire(import.meta.url)('./dist/index.cjs') };
const wrong = [];
for (const [build, m] of Object.entries(builds)) {
  for (const [exported, value] of Object.entries(m)) {
    if (typeof value !== 'function' || !/^class\\b/.test(Function.prototype.toString.call(value))) continue;
    const expected = exported === 'Manager' ? 'SyncManager' : exported;
    if (value.name !== expected) wrong.push(build + ': ' + exported + ' is named ' + value.name);
  }
  wrong.push(build + ' default names: ' + new m.Process({ target: () => 0 }).name + ', ' + new m.Thread({ target: () => 0 }).name);
}
console.log(JSON.stringify(wrong));
`;

test('the built classes keep their names, so a Process is named Process-N in both builds', async (t) => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 60_000 }, (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  t.deepEqual(JSON.parse(stdout), ['esm default names: Process-1, Thread-1', 'cjs default names: Process-1, Thread-1']);
});
