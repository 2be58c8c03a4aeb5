/** Option-object checks shared by the manager classes. */

/** An unknown option name (a typo) -> TypeError naming it, as everywhere in the package. */
export function checkOptions(options: object, known: readonly string[], name: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const error = new TypeError(`Unknown option "${name}.${key}"; known options are ${known.join(', ')}`) as TypeError & {
        code: string;
      };
      error.code = 'ERR_INVALID_ARG_VALUE';
      throw error;
    }
  }
}
