// The managers benchmark's worker side: the loop runs in a Pool worker against a dict proxy it
// received as an argument, and times itself (the pool's start-up is not part of the figure).

/** `inflight` loops share the keys 0…n-1; each does `await d.set(i, i)` then `await d.get(i)`. */
export async function setGetLoop(d, n, inflight = 1) {
  // A short warm-up: the connection opens, and both sides compile the path.
  for (let i = 0; i < 200; i++) {
    await d.set(i, i);
    await d.get(i);
  }
  let next = 0;
  let sum = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < n) {
        const i = next++;
        await d.set(i, i);
        const value = await d.get(i);
        sum += value;
      }
    }),
  );
  return { ms: performance.now() - start, checksum: sum };
}

/**
 * The transport alone, for scale: `2n` sequential round trips of an 8-byte message with an echo
 * server on the manager's side of a Unix socket, no manager protocol at all (the client reads as
 * the manager's clients do, into one reused buffer). Each iteration echoes a "set" then a "get"
 * of `i`; the sum of the `i` read back is the checksum, as for the dict.
 */
export async function socketRoundTrips(path, n) {
  const { connect } = await import('node:net');
  const scratch = Buffer.allocUnsafe(64 * 1024);
  const message = Buffer.alloc(8);
  const reply = Buffer.alloc(8);
  let have = 0;
  let arrived = () => {};
  const socket = connect({
    path,
    onread: {
      buffer: scratch,
      callback: (bytes) => {
        scratch.copy(reply, have, 0, bytes);
        have += bytes;
        if (have === 8) {
          have = 0;
          arrived();
        }
        return true;
      },
    },
  });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const roundTrip = (op, i) => {
    message.writeUInt32LE(op, 0);
    message.writeUInt32LE(i, 4);
    const answer = new Promise((resolve) => {
      arrived = resolve;
    });
    socket.write(message);
    return answer.then(() => reply.readUInt32LE(4));
  };
  for (let i = 0; i < 200; i++) await roundTrip(1, i);
  let sum = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await roundTrip(1, i);
    sum += await roundTrip(2, i);
  }
  const ms = performance.now() - start;
  socket.destroy();
  return { ms, checksum: sum };
}
