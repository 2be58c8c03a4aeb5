/** Option-object checks shared by the manager classes. */
import { validateOptions } from '../validate.js';

/** An unknown option name (a typo) -> TypeError naming it and the closest known one, as everywhere in the package. */
export function checkOptions(options: object, known: readonly string[], name: string): void {
  validateOptions(options, name, Object.fromEntries(known.map((key) => [key, true as const])));
}
