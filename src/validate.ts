/**
 * Argument checks in Node's own style (`ERR_INVALID_ARG_TYPE` TypeErrors, `ERR_OUT_OF_RANGE`
 * RangeErrors), so that every message names the argument and says what was received.
 */

type CodedError<E extends Error> = E & { code: string };

function coded<E extends Error>(error: E, code: string): CodedError<E> {
  (error as CodedError<E>).code = code;
  return error as CodedError<E>;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'function':
      return `function ${value.name || '<anonymous>'}`;
    case 'object':
      return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
    case 'string': {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `type string ('${shown}')`;
    }
    case 'bigint':
      return `type bigint (${value}n)`;
    default:
      return `type ${typeof value} (${String(value)})`;
  }
}

export function invalidType(name: string, expected: string, value: unknown): CodedError<TypeError> {
  return coded(new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`), 'ERR_INVALID_ARG_TYPE');
}

export function outOfRange(name: string, expected: string, value: unknown): CodedError<RangeError> {
  const shown = typeof value === 'bigint' ? `${value}n` : String(value);
  return coded(
    new RangeError(`The value of "${name}" is out of range. It must be ${expected}. Received ${shown}`),
    'ERR_OUT_OF_RANGE',
  );
}

/**
 * A value of the right type that the argument does not accept (a typecode or backend name it does
 * not know): a TypeError with code ERR_INVALID_ARG_VALUE, as Node's own.
 */
export function invalidValue(message: string): CodedError<TypeError> {
  return coded(new TypeError(message), 'ERR_INVALID_ARG_VALUE');
}

/** An ERR_OUT_OF_RANGE RangeError in words of its own, where outOfRange's "must be …" does not fit. */
export function rangeError(message: string): CodedError<RangeError> {
  return coded(new RangeError(message), 'ERR_OUT_OF_RANGE');
}

/** An integer in [min, max]; NaN and fractions are out of range, other types are TypeErrors. */
export function validateInteger(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

/** A timeout in milliseconds: undefined/null for "no timeout", else a finite number >= 0. */
export function validateTimeout(value: unknown, name = 'timeout'): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw invalidType(name, 'of type number (milliseconds)', value);
  if (Number.isNaN(value) || value < 0) throw outOfRange(name, 'a number of milliseconds >= 0', value);
  return value;
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalidType(name, 'of type function', value);
}

export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidType(name, 'of type object', value);
  }
}

/**
 * The names an options object may hold, as an object so that
 * `const X: OptionNames<SomeOptions> = { … }` fails to compile until every option of the interface
 * is listed: adding an option to an interface and to its check is then one change, not two.
 */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/**
 * An options object: a plain object holding only options listed in `known`. A misspelt name
 * (`procesess`) would otherwise be ignored without a word, so it is a TypeError naming it
 * (ERR_INVALID_ARG_VALUE), with the closest known name when there is one. `name` is how errors
 * refer to the object itself: `"options"`, or `"resourceLimits"` for a nested one.
 */
export function validateOptions<T>(
  value: unknown,
  name: string,
  known: OptionNames<T>,
): asserts value is T & Record<string, unknown> {
  validateObject(value, name);
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue;
    const names = Object.keys(known);
    const guess = closest(key, names);
    throw coded(
      new TypeError(
        `The option "${name}.${key}" is not supported${guess ? ` (did you mean "${guess}"?)` : ''}. ` +
          `Supported options: ${names.join(', ')}`,
      ),
      'ERR_INVALID_ARG_VALUE',
    );
  }
}

/**
 * The options of a call that may wait, `{ [flag] = true, timeout? }` (a queue's `block`, a lock's
 * `blocking`): whether it waits, and for how many milliseconds at most.
 */
export function validateWaitOptions<T extends { timeout?: number }>(
  options: T,
  flag: keyof T & string,
  known: OptionNames<T>,
): { wait: boolean; timeout: number | undefined } {
  validateOptions<T>(options, 'options', known);
  const wait = options[flag] === undefined ? true : options[flag];
  if (typeof wait !== 'boolean') throw invalidType(`options.${flag}`, 'of type boolean', wait);
  return { wait, timeout: validateTimeout(options.timeout, 'options.timeout') };
}

/** The known name a typo most likely meant: same letters in another case, or at most 2 edits away. */
function closest(key: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of names) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance && distance < key.length) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}
