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
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['22', '24'];
const pkg = `node-${process.platform}-${process.arch}`;
const results = [];

/**
 * Runs one step, echoing its output as it comes; records and returns whether it passed. The lines
 * that name a failure (ava's ✘, the install test's FAIL) are kept for the summary, because a CI
 * log is often read from its tail only.
 */
async function run(what, cmd, args, env = process.env) {
  console.log(`\n[node-versions] ${what}`);
  const began = Date.now();
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['inherit', 'pipe', 'inherit'] });
  const failures = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    console.log(line);
    if (/✘|\bFAIL\b|not ok/.test(line)) failures.push(line.trim());
  });
  const [code, signal] = await new Promise((resolve) => {
    child.on('error', (error) => resolve([null, error.message]));
    child.on('close', (status, killedBy) => resolve([status, killedBy]));
  });
  const ok = code === 0;
  const seconds = Math.round((Date.now() - began) / 1000);
  results.push({ what, ok, seconds, failures, exit: code ?? signal });
  if (!ok) console.error(`[node-versions] failed: ${what} (exit ${results.at(-1).exit})`);
  return ok;
}

/** The path of Node `major`'s binary, installed from the npm registry when missing; undefined if that fails. */
async function nodeBinary(major) {
  const prefix = join(ROOT, '.cache', `node-${major}`);
  const bin = join(prefix, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `${pkg}@${major}`];
  return (await run(`install ${pkg}@${major}`, npm, args)) ? bin : undefined;
}

for (const major of majors) {
  const node = await nodeBinary(major);
  if (!node) continue;
  // Children that the tests spawn by name (`node …`) must get this Node too, not the system one.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  await run(`Node ${major}: ava suite`, node, [join('node_modules', 'ava', 'entrypoints', 'cli.mjs')], env);
  await run(`Node ${major}: install test`, node, [join('e2e', 'install.mjs')], env);
}

console.log('\n[node-versions] summary');
for (const { what, ok, seconds, exit, failures } of results) {
  console.log(`  ${ok ? 'ok    ' : 'FAILED'} ${what} (${seconds} s${ok ? '' : `, exit ${exit}`})`);
  for (const line of ok ? [] : failures.slice(0, 20)) console.log(`         ${line.trim()}`);
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
