import { defineConfig, type Options } from 'tsup';

// The public entry as ESM and CommonJS with .d.ts for both, and the worker program (ESM only:
// both builds start it by path). The native loader stays outside the bundle
// (native/binding.cjs) so the platform package is resolved at run time.
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
  ],
};

export default defineConfig([
  { ...shared, entry: { index: 'index.ts' }, format: ['esm', 'cjs'], dts: true, clean: true },
  { ...shared, entry: { worker: 'src/worker/entry.ts' }, format: ['esm'], dts: false, clean: false },
  cli,
]);
