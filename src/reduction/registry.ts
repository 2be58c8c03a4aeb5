/**
 * Every module that registers a shareable type (its reviver), in one list. A worker imports this
 * before its first job so it can revive any of them (a Lock, a Queue, a Connection...) whatever
 * its task module imports. A module that calls `registerShareable` is added here; a test holds
 * this list to what the public entry registers.
 */
import '../connection/pipe.js';
import '../managers/channel.js';
import '../queues/queues.js';
import '../sharedctypes/sharedctypes.js';
import '../synchronize/condition.js';
import '../synchronize/locks.js';
