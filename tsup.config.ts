import { defineConfig } from 'tsup';

// One ESM and one CommonJS build of the public entry, with .d.ts for both. The native loader stays
// outside the bundle (native/binding.cjs) so the platform package is resolved at run time.
export default defineConfig({
  entry: { index: 'index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  shims: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  splitting: false,
  external: [/\.\.\/native\/binding\.cjs$/],
});
