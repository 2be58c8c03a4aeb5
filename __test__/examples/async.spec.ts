// examples/greenlets.ts against what gevent's spawn/joinall example prints.
import test from 'ava';

import { runExample } from './run.js';

test('examples/greenlets.ts: every GET starts before any page arrives, then every page arrives', async (t) => {
  const lines = (await runExample(t, 'greenlets.ts')).map((line) => line.replace(/http:\/\/127\.0\.0\.1:\d+/, 'URL'));
  t.deepEqual(lines.slice(0, 3), ['GET: URL/a', 'GET: URL/bb', 'GET: URL/ccc']);
  t.deepEqual(lines.slice(3).sort(), [
    '1000 bytes received from URL/ccc.',
    '800 bytes received from URL/a.',
    '900 bytes received from URL/bb.',
  ]);
});
