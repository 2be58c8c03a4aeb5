// encodeFresh (a manager's requests and replies) writes exactly what encodeValue writes, and falls
// back to V8's serializer where encodeValue would: it only skips checks on the arrays it is told
// are fresh, never on their members.
import test from 'ava';

import { decodeValue, encodeFresh, encodeValue, outBuffer } from '../../src/reduction/codec.js';

/** The error `f` throws (a DOMException is not an Error to ava's t.throws on Node 20). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

function bytes(length: number): Buffer {
  return Buffer.from(outBuffer().subarray(0, length));
}

const shared = { a: 1 };
const arrayWithExtra = Object.assign([1, 2], { extra: true });
const withHole = [1, , 3];
// Members that cannot take the compact form, each on its own and beside compact ones.
const members: [string, unknown][] = [
  ['a small integer', 7],
  ['a double and -0', [0.5, -0]],
  ['a string with non-ASCII', 'héllo ☃'],
  ['null, undefined, booleans', [null, undefined, true, false]],
  ['a plain object', { k: 'v', n: [1, 2] }],
  ['a Map', new Map([[1, 'x']])],
  ['a Date', new Date(0)],
  ['a bigint', 10n ** 20n],
  ['a lone surrogate', '\ud800'],
  ['an array with an extra property', arrayWithExtra],
  ['an array with a hole', withHole],
  ['an object seen twice', [shared, shared]],
  ['a proxy', new Proxy({}, {})],
];

for (const [name, member] of members) {
  test(`a reply holding ${name} is encoded as encodeValue encodes it`, (t) => {
    const reply = [12, 1, member];
    const expectedError = thrown(() => encodeValue(reply));
    if (expectedError !== undefined) {
      t.is((thrown(() => encodeFresh([12, 1, member], 1)) as Error)?.name, (expectedError as Error).name);
      return;
    }
    const expected = bytes(encodeValue(reply));
    const length = encodeFresh([12, 1, member], 1);
    t.deepEqual(bytes(length), expected);
    t.deepEqual(decodeValue(bytes(length), length - 4), structuredClone(reply));
  });

  test(`a request whose args hold ${name} is encoded as encodeValue encodes it`, (t) => {
    const request = () => [0, 3, 9, 'set', ['key', member]];
    const expectedError = thrown(() => encodeValue(request()));
    if (expectedError !== undefined) {
      t.is((thrown(() => encodeFresh(request(), 2)) as Error)?.name, (expectedError as Error).name);
      return;
    }
    const expected = bytes(encodeValue(request()));
    const length = encodeFresh(request(), 2);
    t.deepEqual(bytes(length), expected);
    t.deepEqual(decodeValue(bytes(length), length - 4), structuredClone(request()));
  });
}

test('a fresh array that a member refers back to keeps its cycle (V8 path)', (t) => {
  const args: unknown[] = ['key'];
  const request = [0, 3, 9, 'set', args];
  args.push({ back: request, args });
  const length = encodeFresh(request, 2);
  const decoded = decodeValue(bytes(length), length - 4) as unknown[];
  const decodedArgs = decoded[4] as unknown[];
  const inner = decodedArgs[1] as { back: unknown; args: unknown };
  t.is(inner.back, decoded);
  t.is(inner.args, decodedArgs);
});

test('a reply too large for the compact form takes V8 and still decodes', (t) => {
  const big = Array.from({ length: 1000 }, (_, i) => i);
  const length = encodeFresh([1, 1, big], 1);
  t.deepEqual(bytes(length), bytes(encodeValue([1, 1, big])));
  t.deepEqual(decodeValue(bytes(length), length - 4), [1, 1, big]);
});

test('short string values that share a cache slot each decode to themselves', (t) => {
  // 676 two-letter strings in a cache of 256 slots: many collide, and each must come back as sent.
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = [...letters].flatMap((a) => [...letters].map((b) => a + b));
  for (const round of [0, 1]) {
    for (const word of round === 0 ? words : [...words].reverse()) {
      const length = encodeFresh([1, 1, word], 1);
      t.is((decodeValue(bytes(length), length - 4) as unknown[])[2], word);
    }
  }
});

test('an object seen in one message is new to the next (the seen-list is emptied between them)', (t) => {
  const o = { a: [1, 2] };
  const first = bytes(encodeValue([o]));
  t.is((thrown(() => encodeValue([o, () => {}])) as Error)?.name, 'DataCloneError');
  t.deepEqual(bytes(encodeValue([o])), first, 'after a message that failed');
  t.deepEqual(bytes(encodeValue([o])), first, 'after one that succeeded');
  t.is(first[4], bytes(encodeValue(1))[4], 'the compact form, not V8');
});
