/**
 * The functions load undici's Agent and `request` by their file paths (lib/http-client/undici.ts)
 * and bundle one build of its parser (infra/esbuild-plugins.cjs), leaving out its experimental
 * second parser (serverless.yml `esbuildDetection`) and its HTTP/2 client (the Agent has it off).
 * These tests fail if an undici upgrade moves
 * or changes any of that.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import * as undici from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import { Agent, request, sharedAgent } from '../../lib/http-client/undici.ts';

const UNDICI = join(__dirname, '..', '..', 'node_modules', 'undici');
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
