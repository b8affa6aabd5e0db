/**
 * esbuild plugins for the functions' bundles (serverless.yml custom.esbuild.plugins).
 *
 * undici ships its HTTP/1 parser (llhttp, WebAssembly) twice: built with SIMD, and without it for
 * CPUs that lack WebAssembly SIMD (it tries SIMD first, and under jest loads the other up
 * front). Lambda's CPUs, arm64 (Graviton) and x86_64, all have it: the bundle keeps the SIMD
 * build alone and uses it for both, 70 KiB less to compile at every cold start.
 * test/unit/undici-parts.test.ts fails if an undici upgrade changes what this relies on.
 */
const { resolve } = require('node:path');

const LLHTTP_WITHOUT_SIMD = /(^|\/)llhttp\/llhttp-wasm\.js$/;

const llhttpSimdOnly = {
  name: 'undici-llhttp-simd-only',
  setup(build) {
    build.onResolve({ filter: LLHTTP_WITHOUT_SIMD }, (args) => {
      if (!/[\\/]undici[\\/]lib[\\/]/.test(args.importer)) return undefined;
      return {
        path: resolve(args.resolveDir, args.path.replace('llhttp-wasm.js', 'llhttp_simd-wasm.js')),
      };
    });
  },
};

module.exports = [llhttpSimdOnly];
