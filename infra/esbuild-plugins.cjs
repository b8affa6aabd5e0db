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
 * Its HTTP/1 client and its Request load parts of its fetch implementation (40 KiB), only for a
 * body that is a FormData: the functions send strings. The bundle has stand-ins: no undici
 * FormData exists in it, so undici refuses a FormData body with its own message.
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

const FETCH_PARTS = /^\.\.\/web\/(fetch\/formdata|fetch\/body\.js|webidl)$/;
const FETCH_STUB = 'undici-fetch-left-out';
const FETCH_STANDINS = {
  // Loaded for its side effect: registering undici's FormData class with webidl.
  '../web/fetch/formdata': 'module.exports = {};',
  // "Is this an undici FormData?": there is none in the bundle.
  '../web/webidl': 'module.exports = { webidl: { is: { FormData: () => false } } };',
  '../web/fetch/body.js': `module.exports = {
  extractBody() {
    throw new Error("undici's FormData bodies are not in this bundle: send a string or a Buffer.");
  },
};`,
};

const fetchLeftOut = {
  name: 'undici-fetch-left-out',
  setup(build) {
    build.onResolve({ filter: FETCH_PARTS }, (args) => {
      if (!/[\\/]undici[\\/]lib[\\/](core|dispatcher)$/.test(args.resolveDir)) return undefined;
      return { path: args.path, namespace: FETCH_STUB };
    });
    build.onLoad({ filter: /.*/, namespace: FETCH_STUB }, (args) => ({
      contents: FETCH_STANDINS[args.path],
      loader: 'js',
    }));
  },
};

module.exports = [llhttpSimdOnly, http2LeftOut, fetchLeftOut];
