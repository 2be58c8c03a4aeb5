/**
 * How many shared objects this thread has made or revived so far (they hold shared memory). Kept
 * apart from waiting.ts, which loads the native addon: an idle pool worker checks this after every
 * task, and one that never saw a shared object loads none of that.
 */
let made = 0;

export function countSharedObject(): void {
  made++;
}

export function sharedObjectsMade(): number {
  return made;
}
