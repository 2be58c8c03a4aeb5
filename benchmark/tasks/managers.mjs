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
