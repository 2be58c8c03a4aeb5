// How workers end: quietly when their parent goes, and never in a loop when they cannot start.
import test from 'ava';

import { fixturePath, runNode } from './helpers/node.js';

test('process children whose pool closes at once, or that are replaced, end without EPIPE traces', async (t) => {
  const { code, stdout, stderr } = await runNode(['--import=tsx', fixturePath('quick-close.ts')], { timeoutMs: 100_000 });
  t.is(stderr, '');
  t.is(code, 0);
  t.is(stdout, 'done 20\n');
});
