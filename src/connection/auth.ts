/**
 * The authkey handshake, as Python 3.12's `multiprocessing.connection` does it: each side sends
 * the other a random challenge and checks the HMAC-SHA256 of it under the shared key, so both
 * prove they hold the key and the key itself never crosses. The server challenges first.
 *
 * Until both directions succeed, only raw-bytes frames of at most `HANDSHAKE_FRAME_LIMIT` bytes
 * are read, and nothing in them is decoded or acted on beyond a byte comparison.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { AuthenticationError } from '../errors.js';
import type { FrameSocket } from './frame_socket.js';
import { bytesFrame, frameBytes } from './framing.js';

const CHALLENGE = Buffer.from('#CHALLENGE#');
const WELCOME = Buffer.from('#WELCOME#');
const FAILURE = Buffer.from('#FAILURE#');
const DIGEST = Buffer.from('{sha256}');
/** Random bytes per challenge (Python sends 40; 32 or more is what matters). */
const CHALLENGE_BYTES = 40;
/** The largest frame read before the peer is authenticated (Python reads at most 256 bytes). */
export const HANDSHAKE_FRAME_LIMIT = 256;

function hmac(key: Uint8Array, message: Uint8Array): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

async function recvBytes(io: FrameSocket): Promise<Buffer> {
  const bytes = frameBytes(await io.recv());
  if (!bytes) throw new AuthenticationError('Protocol error during the handshake: expected raw bytes');
  return bytes;
}

async function deliverChallenge(io: FrameSocket, key: Uint8Array): Promise<void> {
  const message = Buffer.concat([DIGEST, randomBytes(CHALLENGE_BYTES)]);
  io.send(bytesFrame(Buffer.concat([CHALLENGE, message])));
  const response = await recvBytes(io);
  const expected = Buffer.concat([DIGEST, hmac(key, message)]);
  if (response.length !== expected.length || !timingSafeEqual(response, expected)) {
    io.send(bytesFrame(FAILURE));
    throw new AuthenticationError('The digest received was wrong: the peer does not hold the authkey');
  }
  io.send(bytesFrame(WELCOME));
}

async function answerChallenge(io: FrameSocket, key: Uint8Array): Promise<void> {
  const message = await recvBytes(io);
  const challenge = message.subarray(CHALLENGE.length);
  if (
    !message.subarray(0, CHALLENGE.length).equals(CHALLENGE) ||
    !challenge.subarray(0, DIGEST.length).equals(DIGEST) ||
    challenge.length < DIGEST.length + 32
  ) {
    throw new AuthenticationError('Protocol error during the handshake: expected a challenge');
  }
  io.send(bytesFrame(Buffer.concat([DIGEST, hmac(key, challenge)])));
  const response = await recvBytes(io);
  if (!response.equals(WELCOME)) throw new AuthenticationError('The digest sent was rejected: the authkey does not match');
}

/**
 * Runs one side of the handshake on a fresh connection. Rejects with AuthenticationError when a
 * digest does not match; closes the socket on any failure, and when `timeoutMs` passes first.
 */
export async function handshake(io: FrameSocket, key: Uint8Array, side: 'server' | 'client', timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new AuthenticationError(`The handshake did not finish within ${timeoutMs} ms`);
      io.destroy(error);
      reject(error);
    }, timeoutMs);
    timer.unref();
  });
  const steps = async () => {
    if (side === 'server') {
      await deliverChallenge(io, key);
      await answerChallenge(io, key);
    } else {
      await answerChallenge(io, key);
      await deliverChallenge(io, key);
    }
  };
  try {
    await Promise.race([steps(), expired]);
  } catch (error) {
    // Let a FAILURE frame reach the peer before closing, so it learns why.
    if (error instanceof AuthenticationError) io.end();
    else io.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
