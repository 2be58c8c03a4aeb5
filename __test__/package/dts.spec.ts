import { fileURLToPath } from 'node:url';

import test from 'ava';
import ts from 'typescript';

// The public .d.ts (what tsup bundles from index.ts) must not expose internals: members tagged
// `@internal` are stripped (tsconfig `stripInternal`), and with them every reference to internal
// classes (Ring, Outbox, Deadline…), which the bundler then leaves out.
test('the declarations of the public modules expose no internals (stripInternal)', (t) => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const configPath = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json')!;
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root);
  t.true(config.options.stripInternal, 'tsconfig sets stripInternal (tsup builds the .d.ts with it)');
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    outDir: '/virtual',
  };
  const program = ts.createProgram([`${root}index.ts`], options);
  const emitted = new Map<string, string>();
  program.emit(undefined, (name, text) => emitted.set(name.replace(/^.*\/virtual\//, ''), text));
  const publicModules = [
    'index',
    'src/queues/queues',
    'src/connection/pipe',
    'src/synchronize/locks',
    'src/synchronize/condition',
    'src/sharedctypes/sharedctypes',
    'src/pool/pool',
    'src/pool/async_result',
    'src/process/process',
    'src/process/thread',
    'src/managers/base',
    'src/managers/proxy',
    'src/managers/proxies',
    'src/managers/sync_manager',
  ];
  const internals =
    /\b(_isMine|_releaseAll|_restoreSteps|_acquireSteps|_lockSteps|_waitSteps|_waitForSteps|_sharedId|_ring|_joinable|_checkOpen|_sameMemory|_state|_toArray|kShare|Ring|Outbox|Deadline|Waiting|kProxy|addRegistration|ServerCore|ProxyChannel|ServerAccess|ChannelParams)\b/g;
  for (const module of publicModules) {
    const text = emitted.get(`${module}.d.ts`);
    if (text === undefined) {
      t.fail(`no declarations emitted for ${module}`);
      continue;
    }
    // Comments may mention them; declarations may not.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    t.deepEqual([...new Set(code.match(internals) ?? [])], [], `${module}.d.ts`);
  }
});
