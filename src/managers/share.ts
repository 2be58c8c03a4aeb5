/**
 * A proxy arriving in a worker (a Pool task's argument, a Process's args, a result coming back):
 * it is rebuilt around this thread's connection to its manager, and takes over the reference its
 * sender lent for the trip.
 */
import { registerShareable } from '../transfer.js';
import { type Address, addressKey } from '../connection/address.js';
import { channelFor } from './channel.js';
import { makeProxy, PROXY_SHARE_TYPE, type ProxyState } from './proxy.js';

/** Keys this thread has received with proxies, so `connect()` to that address needs none. */
const knownKeys = new Map<string, Buffer>();

export function knownAuthkey(address: Address): Buffer | undefined {
  return knownKeys.get(addressKey(address));
}

function revive(state: unknown): unknown {
  const s = state as ProxyState;
  const authkey = Buffer.from(s.authkey);
  knownKeys.set(addressKey(s.address), authkey);
  const channel = channelFor({
    address: s.address,
    authkey,
    tls: s.tls,
    maxFrameBytes: s.maxFrameBytes,
    handshakeTimeout: s.handshakeTimeout,
  });
  channel.adopt(s.token.id, s.lease);
  return makeProxy(channel, s.token);
}

registerShareable(PROXY_SHARE_TYPE, revive);
