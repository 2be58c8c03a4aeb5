/**
 * Python's threading tutorial in TypeScript: a Thread runs a target on a worker thread, and
 * currentThread() names the thread running the code.
 *
 *   node --import tsx examples/thread-music.ts
 */
import { Thread, currentThread } from '../index.js';

// Sent to the worker as source text: it may use only its arguments and globals.
function musicPlayer(song: string, times: number) {
  for (let i = 1; i <= times; i++) console.log(`playing ${song} (${i}/${times})`);
}

const player = new Thread({ target: musicPlayer, args: ['the song', 2] });
player.start();
await player.join();
console.log(`${currentThread().name} waited for ${player.name}; exit code ${player.exitCode}`);
