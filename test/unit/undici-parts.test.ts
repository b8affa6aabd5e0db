/**
 * The functions load undici's Agent and `request` by their file paths (lib/http-client/undici.ts)
 * and bundle one build of its parser (infra/esbuild-plugins.cjs), leaving out its experimental
 * second parser (serverless.yml `esbuildDetection`), its HTTP/2 client (the Agent has it off) and
 * the parts of fetch its client loads for FormData bodies. These tests fail if an undici upgrade moves
 * or changes any of that.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { build } from 'esbuild';
import * as undici from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import { parse } from 'yaml';
import { Agent, request, sharedAgent } from '../../lib/http-client/undici.ts';

const ROOT = join(__dirname, '..', '..');
const UNDICI = join(ROOT, 'node_modules', 'undici');
const source = (path: string) => readFileSync(join(UNDICI, path), 'utf8');

describe("undici's parts, loaded by path", () => {
  it('is the pinned version', () => {
    const pinned = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'))
      .dependencies.undici;
    expect(JSON.parse(source('package.json')).version).toBe(pinned);
  });

  it("is undici's own Agent and request API, as its entry point exports them", () => {
    expect(Agent).toBe(undici.Agent);
    // undici's entry point puts its API on every dispatcher: its `request` is the module loaded.
    expect((undici.Dispatcher.prototype as unknown as { request: unknown }).request).toBe(
      apiRequest,
    );
  });

  it('sends a request through the shared Agent and reads the answer', async () => {
    const server = createServer((incoming, outgoing) => {
      outgoing.setHeader('content-type', 'application/json');
      outgoing.end(JSON.stringify({ method: incoming.method, url: incoming.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await request(sharedAgent(), {
        origin: `http://127.0.0.1:${port}`,
        path: '/event_streams?limit=1',
        method: 'GET',
      });
      expect(answer.statusCode).toBe(200);
      expect(await answer.body.json()).toEqual({ method: 'GET', url: '/event_streams?limit=1' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('offers servers HTTP/1.1 alone over TLS: the HTTP/2 client is left out of the bundles', async () => {
    const fixture = (name: string) =>
      readFileSync(join(__dirname, '..', 'fixtures', `tls-localhost.${name}.pem`));
    const offered: string[][] = [];
    const server = createTlsServer({
      key: fixture('key'),
      cert: fixture('cert'),
      ALPNCallback: ({ protocols }) => {
        offered.push(protocols);
        return protocols[0];
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // The certificate is self-signed: the client refuses it, after offering its protocols.
      await expect(
        request(sharedAgent(), { origin: `https://127.0.0.1:${port}`, path: '/', method: 'GET' }),
      ).rejects.toThrow(/self-signed/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(offered).toEqual([['http/1.1']]);
  });

  it('keeps its HTTP/2 client where the bundle plugin stands in for it', () => {
    const client = source('lib/dispatcher/client.js');
    expect(client).toContain("const connectH2 = require('./client-h2.js')");
    expect(client).toMatch(/socket\.alpnProtocol === 'h2'\s*\?\s*connectH2\(client, socket\)/);
    expect(source('lib/core/connect.js')).toContain(
      "ALPNProtocols: allowH2 ? (preferH2 ? ['h2', 'http/1.1'] : ['http/1.1', 'h2']) : ['http/1.1']",
    );
  });

  it('keeps the FormData checks where the bundle plugin stands in for fetch', () => {
    const requestJs = source('lib/core/request.js');
    expect(requestJs).toMatch(
      /function isUndiciFormData \(body\) \{\s*if \(isFormData === undefined\) \{\s*require\('\.\.\/web\/fetch\/formdata'\)\s*isFormData = require\('\.\.\/web\/webidl'\)\.webidl\.is\.FormData/,
    );
    expect(requestJs).toMatch(
      /isFormDataLike\(body\)\) \{\s*if \(!isUndiciFormData\(body\)\) \{\s*throw new InvalidArgumentError/,
    );
    expect(source('lib/dispatcher/client-h1.js')).toMatch(
      /if \(util\.isFormDataLike\(body\)\) \{\s*if \(!extractBody\) \{\s*extractBody = require\('\.\.\/web\/fetch\/body\.js'\)\.extractBody/,
    );
  });

  describe('bundled as the functions bundle it (infra/esbuild-plugins.cjs)', () => {
    let dir: string;
    let bundled: typeof import('../../lib/http-client/undici.ts');
    let inputs: string[];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'undici-bundle-'));
      // serverless.yml's settings (its other defines need the serverless variables resolved).
      const config = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), {
        logLevel: 'error',
      }).custom.esbuild;
      const result = await build({
        entryPoints: [join(ROOT, 'lib', 'http-client', 'undici.ts')],
        outfile: join(dir, 'undici.cjs'),
        bundle: true,
        platform: config.platform,
        target: config.target,
        format: config.format,
        mainFields: config.mainFields,
        define: { esbuildDetection: config.define.esbuildDetection },
        plugins: require(join(ROOT, config.plugins)),
        metafile: true,
        logLevel: 'silent',
      });
      inputs = Object.keys(result.metafile.inputs);
      bundled = require(join(dir, 'undici.cjs'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('holds HTTP/1 alone: one parser build, no HTTP/2 client, no fetch', () => {
      const undiciFiles = inputs.filter((input) => input.includes('undici/lib/'));
      expect(
        undiciFiles.filter((input) => input.includes('/llhttp/') && input.endsWith('-wasm.js')),
      ).toEqual(['node_modules/undici/lib/llhttp/llhttp_simd-wasm.js']);
      expect(undiciFiles.filter((input) => /client-h2|\/web\/|parser-h1/.test(input))).toEqual([]);
      expect(undiciFiles).toContain('node_modules/undici/lib/dispatcher/client-h1.js');
    });

    it('sends a string body and reads the answer', async () => {
      const server = createServer((incoming, outgoing) => {
        let body = '';
        incoming.on('data', (chunk) => {
          body += chunk;
        });
        incoming.on('end', () => outgoing.end(JSON.stringify({ got: body })));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const agent = new bundled.Agent();
      try {
        const answer = await bundled.request(agent, {
          origin: `http://127.0.0.1:${port}`,
          path: '/',
          method: 'POST',
          body: '{"sampling_rate":0.5}',
        });
        expect(await answer.body.json()).toEqual({ got: '{"sampling_rate":0.5}' });
      } finally {
        await agent.close();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it("refuses a FormData body with undici's own message", async () => {
      const form = new FormData();
      form.append('a', 'b');
      const agent = new bundled.Agent();
      await expect(
        bundled.request(agent, {
          origin: 'http://127.0.0.1:9',
          path: '/',
          method: 'POST',
          body: form as never,
        }),
      ).rejects.toThrow('body must be a FormData created by this undici package instance');
      await agent.close();
    });
  });

  it('keeps its parser builds where the bundle plugin expects them', () => {
    const clientH1 = source('lib/dispatcher/client-h1.js');
    expect(clientH1).toContain("require('../llhttp/llhttp_simd-wasm.js')");
    expect(clientH1).toContain("require('../llhttp/llhttp-wasm.js')");
    // The experimental parser is left out of a bundle that defines esbuildDetection.
    expect(clientH1).toMatch(
      /typeof esbuildDetection === 'undefined'\s*\?\s*require\('\.\/parser-h1\.js'\)/,
    );
  });
});
