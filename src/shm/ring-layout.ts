/**
 * The layout of a ring (ring.ts): its control words, and the sizes and tunables of its byte
 * buffer. Apart from ring.ts only so that each file stays readable.
 */

// ctrl words, grouped by cache line (16 words = 64 bytes) by who writes them.
export const W_LOCK = 0; //   writer side
export const TAIL = 1;
export const ACCEPTED = 2;
export const HEAD_SEEN = 3; // the writer's last look at HEAD: free space is re-read only when it runs out
export const R_LOCK = 16; //  reader side
export const HEAD = 17;
export const GET_COUNT = 18;
export const TAIL_SEEN = 19; // the reader's last look at TAIL
export const NE_SEQ = 32; //  slow paths
export const NE_WAITERS = 33;
export const NF_SEQ = 34;
export const NF_WAITERS = 35;
export const MAXSIZE = 36;
export const WRITER_CLOSED = 37;
export const READER_CLOSED = 38;
export const UNFINISHED = 48; // JoinableQueue
export const JOIN_SEQ = 49;
export const CTRL_WORDS = 64;

export const CAPACITY = 64 * 1024;
/** How long an unbounded queue's putSync waits for the writer mutex before leaving the message to its outbox. */
export const LOCK_GRACE_MS = 20;
export const MASK = CAPACITY - 1;
/** A chunked message starts once this much room is free, so its header is never split. */
export const FIRST_CHUNK = 64;
/** Copies this short go byte by byte: TypedArray.set costs more than the copy itself. */
export const SMALL_COPY = 64;
