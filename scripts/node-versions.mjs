#!/usr/bin/env node
// Runs the ava suite and the install test again on every other Node major we support, with the
// real `node` binary the npm registry publishes as `node-<platform>-<arch>@<major>`. CI machines
// have one Node (20 here); users are on 22 and 24, so the suite must pass on each.
//
// Usage: node scripts/node-versions.mjs [major...]     (default: 22 24)
// Each binary is installed once under .cache/node-<major>/ and reused by later runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['22', '24'];
const pkg = `node-${process.platform}-${process.arch}`;

function run(what, cmd, args, env = process.env) {
  console.log(`\n[node-versions] ${what}`);
  const result = spawnSync(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[node-versions] failed: ${what} (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

/** The path of Node `major`'s binary, installed from the npm registry when missing. */
function nodeBinary(major) {
  const prefix = join(ROOT, '.cache', `node-${major}`);
  const bin = join(prefix, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    run(`install ${pkg}@${major}`, npm, ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `${pkg}@${major}`]);
  }
  return bin;
}

for (const major of majors) {
  const node = nodeBinary(major);
  // Children that the tests spawn by name (`node …`) must get this Node too, not the system one.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  run(`Node ${major}: ava suite`, node, [join('node_modules', 'ava', 'entrypoints', 'cli.mjs')], env);
  run(`Node ${major}: install test`, node, [join('e2e', 'install.mjs')], env);
}
