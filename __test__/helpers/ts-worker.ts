import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker_thread running a TypeScript file. On Node 20, tsx's `--import` hooks do not reach
 * worker threads, so the worker registers tsx itself before importing the file.
 */
export function tsWorker(file: URL, options: WorkerOptions = {}): Worker {
  const source = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(source, { ...options, eval: true });
}
