/**
 * The seed's multiprocessing basics: Process(target, args) in a child process, each side's pid
 * and parent pid (Python's os.getpid() / os.getppid()), and a Process subclass overriding run().
 *
 *   node --import tsx examples/processes.ts
 */
import { Process } from 'napi-multiprocessing';

// Sent to the child as source text: it may use its arguments and globals such as `process`.
function info(title: string) {
  console.log(title);
  console.log(`parent process: ${process.ppid}`);
  console.log(`process id: ${process.pid}`);
}

function f(name: string) {
  console.log('hello', name);
}

class MyProcess extends Process {
  constructor(readonly n: number) {
    super({ backend: 'process' });
  }

  override run() {
    console.log(`MyProcess run n=${this.n} in ${this.name}`);
  }
}

info('main line');
for (const p of [
  new Process({ target: f, args: ['bob'], backend: 'process' }),
  new Process({ target: info, args: ['function info'], backend: 'process' }),
  new MyProcess(3),
]) {
  p.start();
  await p.join();
  console.log(`${p.name} exit code ${p.exitCode}`);
}
