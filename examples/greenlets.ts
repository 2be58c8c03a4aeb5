/**
 * gevent's first example: spawn one greenlet per URL, then joinall. On an 'async' pool,
 * applyAsync is spawn (the call starts at once on this thread) and waiting for every
 * AsyncResult is joinall. A local HTTP server stands in for the web.
 *
 *   node --import tsx examples/greenlets.ts
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Pool } from 'napi-multiprocessing';

const server = createServer((request, response) => {
  setTimeout(() => response.end(`page ${request.url}\n`.repeat(100)), 100);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function f(url: string): Promise<number> {
  console.log(`GET: ${url}`);
  const data = await (await fetch(url)).arrayBuffer();
  console.log(`${data.byteLength} bytes received from ${url}.`);
  return data.byteLength;
}

{
  await using greenlets = new Pool({ backend: 'async', processes: 10 });
  const spawned = ['/a', '/bb', '/ccc'].map((path) => greenlets.applyAsync(f, [base + path]));
  await Promise.all(spawned); // joinall
}
server.close();
