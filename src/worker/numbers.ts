/**
 * A list of plain numbers crosses between threads (or processes) as one Float64Array: cloning it
 * copies one buffer, where a JS array is walked and tagged element by element (the big cost of a
 * large trivial map, on both sides). Every JS number is a float64, so nothing changes on the way
 * (-0, NaN and integers included). Lists of anything else, and short ones, go as they are.
 */
const MIN_PACKED = 16;

/** `values[start, end)` as a Float64Array, or undefined when they are not all numbers (or too few). */
export function packNumbers(values: unknown[], start = 0, end = values.length): Float64Array | undefined {
  if (end - start < MIN_PACKED) return undefined;
  const packed = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    const value = values[i];
    if (typeof value !== 'number') return undefined;
    packed[i - start] = value;
  }
  return packed;
}

/** A plain array again (the pool's callers get arrays, as they gave). */
export function unpackNumbers(values: ArrayLike<unknown>): unknown[] {
  return values instanceof Float64Array ? Array.from(values) : (values as unknown[]);
}
