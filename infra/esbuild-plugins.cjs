/**
 * esbuild plugins for the functions' bundles (serverless.yml custom.esbuild.plugins).
 *
 * undici ships its HTTP/1 parser (llhttp, WebAssembly) twice: built with SIMD, and without it for
 * CPUs that lack WebAssembly SIMD (it tries SIMD first, and under jest loads the other up
 * front). Lambda's CPUs, arm64 (Graviton) and x86_64, all have it: the bundle keeps the SIMD
 * build alone and uses it for both, 70 KiB less to compile at every cold start.
 *
 * undici's client loads its HTTP/2 half, and with it Node.js's http2 module (12 ms of a cold
 * start), whether it is used or not. The functions' Agent has HTTP/2 off (allowH2: false, in
 * lib/http-client/undici.ts): the bundle has a stand-in that says so if it were ever called.
 *
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

const CLIENT_H2 = /^\.\/client-h2\.js$/;
const STUB = 'undici-client-h2-left-out';

const http2LeftOut = {
  name: 'undici-http2-left-out',
  setup(build) {
    build.onResolve({ filter: CLIENT_H2 }, (args) => {
      if (!/[\\/]undici[\\/]lib[\\/]dispatcher$/.test(args.resolveDir)) return undefined;
      return { path: STUB, namespace: STUB };
    });
    build.onLoad({ filter: /.*/, namespace: STUB }, () => ({
      contents: `module.exports = function connectH2() {
  throw new Error("undici's HTTP/2 client is not in this bundle: make the Agent with allowH2: false (lib/http-client/undici.ts).");
};`,
      loader: 'js',
    }));
  },
};

module.exports = [llhttpSimdOnly, http2LeftOut];
