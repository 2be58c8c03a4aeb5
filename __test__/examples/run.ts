/**
 * Runs a file of examples/ as a user runs it (`node --import tsx examples/…`, from the package
 * root). The examples import the package by name, so they exercise the build in dist/.
 */
import type { ExecutionContext } from 'ava';

import { runNode } from '../helpers/node.js';
import { root } from '../cluster/helpers.js';

/** Its stdout lines; it must exit 0 having printed nothing on stderr. */
export async function runExample(t: ExecutionContext, file: string, args: string[] = []): Promise<string[]> {
  const run = await runNode(['--import', 'tsx', `examples/${file}`, ...args], { cwd: root, timeoutMs: 150_000 });
  t.is(run.stderr, '', `examples/${file} printed on stderr`);
  t.is(run.code, 0, `examples/${file} exit code`);
  return run.stdout.trimEnd().split('\n');
}

/** The lines of `lines` that start with `prefix`, in the order printed. */
export function starting(lines: string[], prefix: string): string[] {
  return lines.filter((line) => line.startsWith(prefix));
}
