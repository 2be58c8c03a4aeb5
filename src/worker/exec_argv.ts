/**
 * Which of the parent's Node flags a child process (or a worker thread) should get.
 *
 * A child runs the worker program, a file. The parent's flags that load code or set limits
 * (tsx's `--import`, `--conditions`, `--enable-source-maps`, heap sizes…) apply to it too. The
 * flags that say what the parent itself runs do not: a script given with `-e`/`-p` or on stdin and
 * its `--input-type` (a child given a file dies of ERR_INPUT_TYPE_NOT_ALLOWED), the test runner,
 * `--watch`, `--check`, the REPL, snapshot building or running, a single executable's config.
 * An inspector port the parent holds would clash: a child process gets its own inspector, on a
 * free port; a thread is debugged through its parent's.
 */
import type { WorkerKind } from './spawn.js';

/** Flags dropped with their value (`--flag value` or `--flag=value`). */
const DROPPED_WITH_VALUE = new Set([
  '-e',
  '--eval',
  '-p',
  '-pe',
  '--print',
  '--input-type',
  '--watch-path',
  '--snapshot-blob',
  '--build-snapshot-config',
  '--experimental-sea-config',
  '--run',
  '--inspect-port',
  '--debug-port',
]);

/** Flags without a value that are dropped. */
const DROPPED = new Set(['-c', '--check', '-i', '--interactive', '--build-snapshot', '--watch', '--watch-preserve-output']);

/** The test runner's flags, valued or not, all of the form `--flag=value` when valued. */
const TEST_RUNNER = /^--(experimental-)?test(-|$)/;

/** `--inspect`, `--inspect-brk`, `--inspect-wait`, with an optional `[host:]port`. */
const INSPECT = /^--inspect(?:-brk|-wait)?(?:=(.*))?$/;

/** The test runner's flags that take a value as the next argument when not written with `=`. */
const TEST_RUNNER_WITH_VALUE = new Set([
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-concurrency',
  '--test-timeout',
  '--test-shard',
  '--test-isolation',
  '--test-coverage-include',
  '--test-coverage-exclude',
  '--test-coverage-branches',
  '--test-coverage-functions',
  '--test-coverage-lines',
  '--experimental-test-isolation',
]);

/** The parent's `execArgv`, reduced to the flags that apply to a worker of this kind. */
export function workerExecArgv(kind: WorkerKind, execArgv: readonly string[]): string[] {
  const out: string[] = [];
  let inspectHost: string | undefined;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const name = arg.startsWith('--') ? arg.split('=', 1)[0]! : arg;
    const inspect = INSPECT.exec(arg);
    if (inspect) {
      // Keep the host the parent listens on; the port is the child's own.
      const where = inspect[1] ?? '';
      inspectHost ??= where.includes(':') ? where.slice(0, where.lastIndexOf(':')) : /^\d*$/.test(where) ? '' : where;
      continue;
    }
    if (DROPPED_WITH_VALUE.has(name) || TEST_RUNNER_WITH_VALUE.has(name)) {
      if (!arg.includes('=')) i++;
      continue;
    }
    if (DROPPED.has(name) || TEST_RUNNER.test(name)) continue;
    out.push(arg);
  }
  if (inspectHost !== undefined && kind === 'process') out.push(`--inspect=${inspectHost ? `${inspectHost}:` : ''}0`);
  return out;
}

/** `NODE_OPTIONS` for a child: without `--input-type`, which would refuse the child's file too. */
export function workerNodeOptions(nodeOptions: string | undefined): string | undefined {
  if (nodeOptions === undefined || !nodeOptions.includes('--input-type')) return nodeOptions;
  return nodeOptions.replace(/(^|\s)--input-type(?:=|\s+)\S+/g, '').trim();
}
