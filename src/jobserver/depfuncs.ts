/**
 * Parallel Python's `depfuncs` and `modules` for an inline task: the helpers' source and the
 * module imports are written into the task's own source, so the worker that compiles it (this
 * machine's workers only: the cluster refuses inline code) can call the helpers by name.
 */
import type { AnyFunction } from '../task.js';
import { invalidType } from '../validate.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function sourceOf(fn: AnyFunction, name: string): string {
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(source)) {
    throw invalidType(name, 'a function written in JavaScript (built-in and bound functions have no source)', fn);
  }
  return source;
}

/** The source as an expression: functions, arrows and generators are; method shorthand is not. */
function asExpression(source: string): string {
  if (/^(async\s+)?(function\b|\(|[A-Za-z_$][\w$]*\s*=>)/.test(source)) return source;
  if (source.startsWith('async ')) return `async function ${source.slice(6)}`;
  return `function ${source}`;
}

/** The name a module is bound to in the task: `node:child_process` -> `child_process`, `@s/pkg` -> `pkg`. */
export function moduleBinding(specifier: string): string {
  const last = specifier.split(/[/:]/).filter(Boolean).pop() ?? '';
  const name = last.replace(/\.[cm]?js$/, '').replace(/[^\w$]/g, '_');
  return /^\d/.test(name) ? `_${name}` : name;
}

function checkDepfuncs(depfuncs: unknown): AnyFunction[] {
  if (!Array.isArray(depfuncs)) throw invalidType('depfuncs', 'an array of functions', depfuncs);
  depfuncs.forEach((fn, i) => {
    if (typeof fn !== 'function') throw invalidType(`depfuncs[${i}]`, 'a function', fn);
    if (!IDENTIFIER.test(fn.name)) throw invalidType(`depfuncs[${i}]`, 'a named function (the task calls it by its name)', fn);
  });
  return depfuncs as AnyFunction[];
}

function checkModules(modules: unknown): string[] {
  if (!Array.isArray(modules)) throw invalidType('modules', 'an array of module specifiers', modules);
  modules.forEach((m, i) => {
    if (typeof m !== 'string' || !IDENTIFIER.test(moduleBinding(m)))
      throw invalidType(`modules[${i}]`, 'a module specifier such as node:path', m);
  });
  return modules as string[];
}

/**
 * `fn` with `depfuncs` declared and `modules` imported (each bound to its default export when it
 * has one, as `node:path` and CommonJS packages do, else to its namespace) before it runs.
 */
export function withDependencies(fn: AnyFunction, depfuncs: unknown = [], modules: unknown = []): AnyFunction {
  const deps = checkDepfuncs(depfuncs);
  const imports = checkModules(modules);
  if (deps.length === 0 && imports.length === 0) return fn;
  const lines = imports.map(
    (m) => `const ${moduleBinding(m)} = await import(${JSON.stringify(m)}).then((m) => ('default' in m ? m.default : m));`,
  );
  deps.forEach((dep, i) => lines.push(`const ${dep.name} = ${asExpression(sourceOf(dep, `depfuncs[${i}]`))};`));
  lines.push(`return (${asExpression(sourceOf(fn, 'fn'))}).apply(this, args);`);
  const name = IDENTIFIER.test(fn.name) ? fn.name : 'task';
  const source = `${imports.length > 0 ? 'async ' : ''}function ${name}(...args) {\n${lines.join('\n')}\n}`;
  // The caller's own functions, put together here; the result travels as source like any inline task.
  return (0, eval)(`(${source})`) as AnyFunction;
}
