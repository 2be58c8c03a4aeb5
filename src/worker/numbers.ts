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
  return packInto(values, start, end, packed, -start) ? packed : undefined;
}

/**
 * Writes `values[start, end)` to `into` from index `start + shift`; false at the first value that
 * is not a number (what was written before it stays).
 */
export function packInto(values: unknown[], start: number, end: number, into: Float64Array, shift = 0): boolean {
  for (let i = start; i < end; i++) {
    const value = values[i];
    if (typeof value !== 'number') return false;
    into[i + shift] = value;
  }
  return true;
}

/** A plain array again (the pool's callers get arrays, as they gave). */
export function unpackNumbers(values: ArrayLike<unknown>): unknown[] {
  return values instanceof Float64Array ? Array.from(values) : (values as unknown[]);
}

/**
 * Writes `values` to `into` from index `start`. A whole number goes in as a small integer when it
 * is one (what `values[i]` alone would not do): a list of small integers then stays one in V8,
 * rather than being converted whole to a list of doubles by the first store, and costs its
 * caller no boxing per element as it reads it.
 */
export function unpackInto(into: unknown[], start: number, values: Float64Array): void {
  const count = values.length;
  for (let i = 0; i < count; i++) {
    const value = values[i]!;
    const small = value | 0;
    // (-0 stays a double: `small` would be +0.)
    if (small === value && (small !== 0 || 1 / value > 0)) into[start + i] = small;
    else into[start + i] = value;
  }
}
