import { readFile } from 'node:fs/promises';

import { defineConfig, type Options } from 'tsup';

// The public entry as ESM and CommonJS with .d.ts for both, and the worker program (ESM only:
// both builds start it by path). The native loader stays outside the bundle
// (native/binding.cjs) so the platform package is resolved at run time.
//
// The ESM entry and the worker are one build with code splitting, so they share one copy of every
// module: a task module that imports the package inside a worker gets the very classes the worker
// revived its arguments with (`instanceof` holds), and one registry of shared types.
const shared = {
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  splitting: false,
  shims: true,
  external: [/\.\.\/native\/binding\.cjs$/],
} as const;

// The `napi-multiprocessing` bin (bench CLI), ESM only. It imports the library through the
// sibling dist/index.js rather than bundling a second copy, so the CLI measures exactly what users
// import. benny is bundled (npx users do not have our devDependencies); the pools it compares with
// stay external and optional: a missing one becomes a "not installed" row.
const cli: Options = {
  ...shared,
  entry: { cli: 'bin/cli.ts' },
  format: ['esm'],
  dts: false,
  clean: false,
  noExternal: ['benny'],
  external: ['piscina', 'tinypool', 'workerpool'],
  banner: {
    // Bundled CommonJS (benny, benchmark.js) calls require(); an ES module has none of its own.
    js: "#!/usr/bin/env node\nimport { createRequire as __nmpCreateRequire } from 'node:module';\nconst require = __nmpCreateRequire(import.meta.url);",
  },
  esbuildPlugins: [
    {
      name: 'library-entry-external',
      setup(build) {
        build.onResolve({ filter: /^(\.\.\/)+index\.js$/ }, () => ({ path: './index.js', external: true }));
      },
    },
    {
      // benchmark.js (under benny) loads lodash and platform through a require() it looks up at
      // run time, which a bundler cannot see: bundled as is, it finds no lodash once installed
      // without our devDependencies. Spelling the two requires out lets esbuild bundle them.
      name: 'benchmark-js-static-requires',
      setup(build) {
        build.onLoad({ filter: /[\\/]benchmark[\\/]benchmark\.js$/ }, async (args) => {
          const source = await readFile(args.path, 'utf8');
          const dynamic = "var freeRequire = typeof require == 'function' && require;";
          if (!source.includes(dynamic)) throw new Error('benchmark.js changed: revisit the benchmark-js-static-requires plugin');
          const staticRequire =
            "var freeRequire = function (id) { return id === 'lodash' ? require('lodash') : id === 'platform' ? require('platform') : undefined; };";
          return { contents: source.replace(dynamic, staticRequire), loader: 'js' };
        });
      },
    },
  ],
};

// keepNames: esbuild emits a class that refers to itself as `var Process = class _Process`, and
// users see class names: a Process is named `Process-1` after its class, as in Python. The library
// builds only; the CLI shows no class names.
const library = { ...shared, keepNames: true } as const;

export default defineConfig([
  {
    ...library,
    entry: { index: 'index.ts', worker: 'src/worker/main.ts' },
    format: ['esm'],
    splitting: true,
    // One shared file, named so the worker's CommonJS start can load it (src/worker/start.cts). A
    // second chunk (a new dynamic import) would take the same name and fail the build, not the start.
    esbuildOptions(options) {
      options.chunkNames = 'shared';
    },
    dts: { entry: { index: 'index.ts' } },
    clean: true,
  },
  { ...library, entry: { index: 'index.ts' }, format: ['cjs'], dts: true, clean: false },
  // The worker's CommonJS start (see src/worker/start.cts): one require() of the ESM worker beside it.
  {
    ...shared,
    entry: { 'worker-start': 'src/worker/start.cts' },
    format: ['cjs'],
    dts: false,
    clean: false,
    external: ['./shared.js'],
  },
  cli,
]);
