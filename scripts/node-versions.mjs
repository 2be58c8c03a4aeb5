#!/usr/bin/env node
// Runs the ava suite and the install test again on every other Node major we support, with the
// real `node` binary the npm registry publishes as `node-<platform>-<arch>@<major>`. CI machines
// have one Node (20 here); users are on 22 and 24, so the suite must pass on each.
//
// Usage: node scripts/node-versions.mjs [major...]     (default: 22 24)
// Each binary is installed once under .cache/node-<major>/ and reused by later runs.
//
// Every step runs even after one fails, so one CI run reports all that fails on every major; the
// summary at the end gives each step's verdict and duration, and the exit code is 1 if any failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['22', '24'];
const pkg = `node-${process.platform}-${process.arch}`;
const results = [];

/** Runs one step with inherited output; records and returns whether it passed. */
function run(what, cmd, args, env = process.env) {
  console.log(`\n[node-versions] ${what}`);
  const began = Date.now();
  const result = spawnSync(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
  const ok = result.status === 0;
  const seconds = Math.round((Date.now() - began) / 1000);
  results.push({ what, ok, seconds, exit: result.status ?? result.signal ?? result.error?.message });
  if (!ok) console.error(`[node-versions] failed: ${what} (exit ${results.at(-1).exit})`);
  return ok;
}

/** The path of Node `major`'s binary, installed from the npm registry when missing; undefined if that fails. */
function nodeBinary(major) {
  const prefix = join(ROOT, '.cache', `node-${major}`);
  const bin = join(prefix, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `${pkg}@${major}`];
  return run(`install ${pkg}@${major}`, npm, args) ? bin : undefined;
}

for (const major of majors) {
  const node = nodeBinary(major);
  if (!node) continue;
  // Children that the tests spawn by name (`node …`) must get this Node too, not the system one.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  run(`Node ${major}: ava suite`, node, [join('node_modules', 'ava', 'entrypoints', 'cli.mjs')], env);
  run(`Node ${major}: install test`, node, [join('e2e', 'install.mjs')], env);
}

console.log('\n[node-versions] summary');
for (const { what, ok, seconds, exit } of results) {
  console.log(`  ${ok ? 'ok    ' : 'FAILED'} ${what} (${seconds} s${ok ? '' : `, exit ${exit}`})`);
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
