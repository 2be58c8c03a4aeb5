/**
 * Managers: Python's `multiprocessing.managers` (SyncManager, BaseManager and their proxies).
 */
import './share.js';

export { BaseManager, ManagerServer, type BaseManagerOptions } from './base.js';
export { SyncManager, Manager } from './sync_manager.js';
export { BaseProxy, type Proxied } from './proxy.js';
export type { RegisterOptions } from './registry.js';
export type { Address } from '../connection/address.js';
export {
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
  ArrayProxy,
  QueueProxy,
  JoinableQueueProxy,
  AcquirerProxy,
  EventProxy,
  ConditionProxy,
  BarrierProxy,
  type BlockOptions,
} from './proxies.js';
