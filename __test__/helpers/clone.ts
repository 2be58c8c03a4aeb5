/**
 * A canonical, exact description of a value graph, for comparing what a channel delivers with
 * what `structuredClone` gives: every own property (enumerable or not, with its key exactly),
 * prototypes, -0, lone surrogates, holes, array extra properties, typed-array offsets and which
 * objects are the same object (a second meeting is `#n`, the order of first meetings).
 */
export function describeClone(value: unknown): unknown {
  const ids = new Map<object, number>();
  const walk = (v: unknown): unknown => {
    switch (typeof v) {
      case 'number':
        return Object.is(v, -0) ? 'number -0' : `number ${v}`;
      case 'bigint':
        return `bigint ${v}`;
      case 'string':
        return `string ${JSON.stringify(v)}`;
      case 'object':
        if (v === null) return 'null';
        break;
      case 'function':
        return 'function';
      default:
        return `${typeof v} ${String(v)}`;
    }
    const seen = ids.get(v);
    if (seen !== undefined) return `#${seen}`;
    ids.set(v, ids.size);
    const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
    return {
      id: ids.get(v),
      proto: proto === null ? null : (proto.constructor?.name ?? '?'),
      ...inner(v, walk),
      own: ownProperties(v, walk),
    };
  };
  return walk(value);
}

function ownProperties(v: object, walk: (v: unknown) => unknown): unknown[] {
  return Reflect.ownKeys(v).map((key) => {
    const d = Object.getOwnPropertyDescriptor(v, key)!;
    const name = typeof key === 'symbol' ? `symbol ${String(key.description)}` : JSON.stringify(key);
    const flags = `${d.enumerable ? 'e' : ''}${d.writable ? 'w' : ''}${d.configurable ? 'c' : ''}`;
    return 'value' in d ? [name, flags, walk(d.value)] : [name, flags, 'accessor'];
  });
}

function inner(v: object, walk: (v: unknown) => unknown): Record<string, unknown> {
  if (ArrayBuffer.isView(v)) return { view: [v.byteOffset, v.byteLength], buffer: walk(v.buffer) };
  if (v instanceof ArrayBuffer) {
    const { resizable, maxByteLength } = v as ArrayBuffer & { resizable: boolean; maxByteLength: number };
    return { bytes: Buffer.from(v).toString('hex'), resizable, max: maxByteLength };
  }
  if (v instanceof Date) return { time: v.getTime() };
  if (v instanceof RegExp) return { source: v.source, flags: v.flags };
  if (v instanceof Map) return { entries: [...v].map(([k, x]) => [walk(k), walk(x)]) };
  if (v instanceof Set) return { items: [...v].map(walk) };
  for (const Box of [String, Number, Boolean, BigInt, Symbol] as unknown as { prototype: { valueOf(): unknown } }[]) {
    if (Object.getPrototypeOf(v) === Box.prototype && !Array.isArray(v)) return { boxed: walk(Box.prototype.valueOf.call(v)) };
  }
  return {};
}
