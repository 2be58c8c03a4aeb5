/**
 * gevent's `Pool(3).map(fetch, urls)` in TypeScript: an 'async' pool runs I/O-bound calls on this
 * thread, at most 3 in flight. It starts a local HTTP server that answers after a short wait and
 * counts the requests it is serving at once.
 *
 *   node --import tsx examples/async-fetch.ts
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Pool } from '../index.js';

let inFlight = 0;
let mostInFlight = 0;
const server = createServer((request, response) => {
  inFlight++;
  mostInFlight = Math.max(mostInFlight, inFlight);
  setTimeout(() => {
    inFlight--;
    response.end(`you asked for ${request.url}`);
  }, 50);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const urls = Array.from({ length: 9 }, (_, i) => `${base}/page/${i}`);

// Closures are fine here: nothing leaves this thread.
let fetched = 0;
async function download(url: string): Promise<string> {
  const response = await fetch(url);
  fetched++;
  return `${response.status} ${await response.text()}`;
}

{
  await using io = new Pool({ backend: 'async', processes: 3 });
  for (const line of await io.map(download, urls)) console.log(line);
}
console.log(`fetched ${fetched} pages, at most ${mostInFlight} at once`);
server.close();
