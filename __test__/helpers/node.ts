import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NodeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A fixture script's path, for running it in a child node. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * Runs `node ...args` (this Node, so tsx loads from the flags given) to its end and collects its
 * output. The hang guard kills it after `timeoutMs` and says so in the rejection.
 */
export function runNode(args: string[], options: { timeoutMs?: number; input?: string; cwd?: string } = {}): Promise<NodeRun> {
  const { timeoutMs = 60_000, input, cwd } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `node ${args.join(' ').slice(0, 200)} did not end within ${timeoutMs} ms (hang)\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
