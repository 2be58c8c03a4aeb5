/**
 * How a module task is named across machines.
 *
 * A file URL means nothing on another machine, where the same code lives at another path. So a
 * module task travels under every name a worker might know it by, most portable first:
 *
 * - `<package name>/<path inside the package>` when the file lies in a package whose
 *   package.json has a name (the same app deployed on every machine: the usual case);
 * - `cluster:<name>` for `task('cluster:<name>', …)`, matching a worker started with
 *   `--tasks <name>=FILE` (an explicit name, for code outside any named package);
 * - the file URL itself (a worker on the same machine, started with `--tasks FILE`).
 *
 * A worker serves a job when one of these names is one it was started with; it never imports
 * anything else.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The scheme of an explicit module name, `task('cluster:primes', 'sumPrimes')`. */
export const NAME_SCHEME = 'cluster:';

const packageNames = new Map<string, { dir: string; name: string } | null>();

/** The nearest enclosing package.json that has a name (one without a name only sets a type). */
function namedPackage(dir: string): { dir: string; name: string } | null {
  const known = packageNames.get(dir);
  if (known !== undefined) return known;
  let found: { dir: string; name: string } | null = null;
  try {
    const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    if (typeof name === 'string' && name.length > 0) found = { dir, name };
  } catch {
    // no package.json here, or not one we can read: look further up
  }
  if (!found) {
    const parent = dirname(dir);
    found = parent === dir ? null : namedPackage(parent);
  }
  packageNames.set(dir, found);
  return found;
}

/** `<package name>/<path inside it>` for a file in a named package, else undefined. */
export function packageKey(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  let file: string;
  try {
    file = fileURLToPath(url);
  } catch {
    return undefined;
  }
  const pkg = namedPackage(dirname(file));
  return pkg ? `${pkg.name}/${relative(pkg.dir, file).split(sep).join('/')}` : undefined;
}

/** Every name a module task travels under, most portable first. */
export function moduleKeys(url: string): string[] {
  const pkg = packageKey(url);
  return pkg ? [pkg, url] : [url];
}
