/**
 * The worker program as an ES module entry (`dist/worker.js`): tsx's bootstrap, and Node versions
 * where the CommonJS start (start.cts) is not used, start here.
 */
import { runWorker } from './entry.js';

runWorker();
