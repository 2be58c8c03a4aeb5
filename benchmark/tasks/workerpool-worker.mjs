// workerpool wants a worker script that registers its functions by name (its documented usage);
// the functions themselves are the shared ones, so every pool runs the same code.
import workerpool from 'workerpool';

import { noop, noopChunk, sumPrimes } from './primes.mjs';

workerpool.worker({ sumPrimes, noop, noopChunk });
