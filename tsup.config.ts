import { defineConfig } from 'tsup';

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

export default defineConfig([
  { ...shared, entry: { index: 'index.ts' }, format: ['esm', 'cjs'], dts: true, clean: true },
  { ...shared, entry: { worker: 'src/worker/entry.ts' }, format: ['esm'], dts: false, clean: false },
]);
