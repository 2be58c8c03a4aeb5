/**
 * Where a manager listens: a Unix socket path (a named pipe on Windows) or a TCP host and port.
 * `new Manager()` without an address listens on a socket in a private temporary directory
 * (mode 0700, so only this user can even reach the handshake), removed when the manager stops.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { invalidType, outOfRange, validateInteger } from '../validate.js';

export type Address = string | { host: string; port: number };

export function validateAddress(value: unknown, name = 'address'): Address {
  if (typeof value === 'string') {
    if (value.length === 0) throw outOfRange(name, 'a non-empty socket path', "''");
    return value;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidType(name, 'a socket path (string) or an object { host, port }', value);
  }
  const { host, port } = value as { host?: unknown; port?: unknown };
  if (typeof host !== 'string') throw invalidType(`${name}.host`, 'of type string', host);
  validateInteger(port, `${name}.port`, 0, 65535);
  return { host, port: port as number };
}

/** One string per address, to find the connection or server of an address. */
export function addressKey(address: Address): string {
  return typeof address === 'string' ? `path:${address}` : `tcp:${address.host}:${address.port}`;
}

export function formatAddress(address: Address): string {
  return typeof address === 'string' ? address : `${address.host}:${address.port}`;
}

/** A fresh private socket address, and the directory to remove with it (none on Windows). */
export function privateAddress(): { path: string; dir: string | undefined } {
  if (process.platform === 'win32') {
    return { path: `\\\\?\\pipe\\napi-multiprocessing-${process.pid}-${randomBytes(8).toString('hex')}`, dir: undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'napi-mp-'));
  return { path: join(dir, 'manager.sock'), dir };
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
