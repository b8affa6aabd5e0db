/**
 * The local API Gateway (scripts/gateway.ts, what `npm start` serves on PORT) in front of a fake
 * Lambda endpoint that echoes the event it is handed: whatever a client sends, however malformed,
 * the gateway answers or closes, and keeps serving. Generated raw requests (fast-check, seeded;
 * FC_RUNS for a longer run, FC_SEED to replay): query and header names from Object.prototype, bad
 * framing (chunked, Content-Length), bogus methods, invalid bytes, huge headers, and clients that
 * go away mid-headers, mid-body and while the function runs.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { startGateway } from '../../scripts/gateway.ts';
import { type RawEnding, rawExchange } from '../helpers/raw-http.ts';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const SEED = Number(process.env.FC_SEED ?? 5813);
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);
/** The function's answer (200), the gateway's own refusals, or no answer and a close. */
const ALLOWED: (number | 'closed')[] = [200, 400, 404, 413, 431, 'closed'];

let lambda: Server;
let gateway: Server;
let port: number;
/** What reached the process's last-resort handlers: a crash of `npm start`, had it been there. */
const escaped: unknown[] = [];
const onEscape = (error: unknown) => {
  escaped.push(error);
};

beforeAll(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  // serverless offline's Invoke endpoint, as the gateway uses it: the event is parsed with
  // JSON.parse, and the function (here) answers with what it was handed; `x-delay` makes it slow.
  lambda = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const delay = Number(event.headers?.['x-delay'] ?? 0);
    if (delay > 0) await sleep(delay);
    const functionName = decodeURIComponent(request.url?.split('/')[3] ?? '');
    if (event.headers?.['x-answer'] === 'bad-header') {
      // A header value no HTTP answer may carry.
      response.end(JSON.stringify({ statusCode: 200, headers: { 'x-bad': 'a\nb' }, body: '' }));
      return;
    }
    response.end(
      JSON.stringify({
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ functionName, event }),
      }),
    );
  });
  await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
  gateway = await startGateway({
    port: 0,
    lambdaUrl: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
    functionPrefix: 'svc-dev-',
  });
  port = (gateway.address() as AddressInfo).port;
});

afterAll(async () => {
  gateway.closeAllConnections();
  lambda.closeAllConnections();
  await Promise.all([
    new Promise((resolve) => gateway.close(resolve)),
    new Promise((resolve) => lambda.close(resolve)),
  ]);
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

afterEach(() => {
  expect(escaped).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

/** A well-formed request on its own connection; what the function was handed, parsed. */
async function echoed(target: string, headers: string[] = []) {
  const answer = await rawExchange(port, [
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`,
  ]);
  return {
    status: answer.status,
    echo: answer.status === 200 ? JSON.parse(answer.body) : undefined,
  };
}

/** The gateway still answers a normal request: the function's answer, 200. */
async function expectServing() {
  const { status, echo } = await echoed('/event-streams?limit=1');
  expect(status).toBe(200);
  expect(echo.event.queryStringParameters).toEqual({ limit: '1' });
}

describe('the local API Gateway hands the function what API Gateway would', () => {
  it('passes every Object.prototype name as an ordinary query parameter, repeats joined', async () => {
    for (const name of PROTOTYPE_NAMES) {
      const { status, echo } = await echoed(`/event-streams?${name}=1&${name}=2&limit=3`);

      expect([name, status]).toEqual([name, 200]);
      expect(echo.functionName).toBe('svc-dev-listEventStreams');
      expect(echo.event.rawQueryString).toBe(`${name}=1&${name}=2&limit=3`);
      // JSON.parse (as the function's runtime) makes every name an own property.
      expect(Object.entries(echo.event.queryStringParameters)).toEqual([
        [name, '1,2'],
        ['limit', '3'],
      ]);
    }
  });

  it('passes headers named like Object.prototype properties as ordinary headers', async () => {
    const { status, echo } = await echoed('/event-streams', [
      '__proto__: a',
      'constructor: b',
      'Constructor: c',
      'hasOwnProperty: d',
    ]);

    expect(status).toBe(200);
    expect(echo.event.headers).toMatchObject({ constructor: 'b,c', hasownproperty: 'd' });
    expect(Object.entries(echo.event.headers)).toContainEqual(['__proto__', 'a']);
  });
});

describe('the local API Gateway survives any request', () => {
  it('keeps serving after a client goes away mid-headers, mid-body and while the function runs', async () => {
    const head =
      'POST /event-streams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
    await rawExchange(port, [head.slice(0, 30)], { kind: 'destroy' });
    await rawExchange(port, [`${head}Content-Length: 100\r\n\r\n{"event_type":`], {
      kind: 'destroy',
    });
    await rawExchange(port, [`${head}Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":`], {
      kind: 'destroy',
    });
    await rawExchange(port, [`${head}Content-Length: 2\r\nX-Delay: 200\r\n\r\n{}`], {
      kind: 'destroyAfter',
      ms: 50,
    });
    // Let the gateway see each close (and finish the slow invocation) before asking again.
    await sleep(300);

    await expectServing();
  });

  it('answers 500 to a function answer it cannot send, and keeps serving', async () => {
    const answer = await rawExchange(port, [
      'GET /event-streams HTTP/1.1\r\nHost: x\r\nX-Answer: bad-header\r\nConnection: close\r\n\r\n',
    ]);

    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({ message: 'Internal Server Error' });
    await expectServing();
  });

  it('answers 431 to headers too large and 400 to bad framing, as Node does, and keeps serving', async () => {
    const start = 'POST /event-streams HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    const cases: [string, number][] = [
      [`GET /event-streams HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      [`${start}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
      [`${start}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x`, 400],
      [`${start}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 400],
      [`${start}Content-Length: -1\r\n\r\n`, 400],
      ['BREW /event-streams HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET /event-streams HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400],
      ['GET /event-streams HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n', 400],
    ];
    for (const [request, status] of cases) {
      const answer = await rawExchange(port, [request]);
      expect([request.slice(0, 80), answer.status]).toEqual([request.slice(0, 80), status]);
    }

    await expectServing();
  });

  // ---- generated raw requests -----------------------------------------------------------------

  const prototypeName = fc.constantFrom(...PROTOTYPE_NAMES);
  const queryName = fc.oneof(
    prototypeName,
    prototypeName.map((name) => name.replaceAll('_', '%5F')),
    prototypeName.map((name) => `${name}[polluted]`),
    fc.constantFrom('constructor[prototype][polluted]', 'constructor.prototype.polluted', 'limit'),
    fc.string({ maxLength: 8 }).map(encodeURIComponent),
  );
  const queryString = fc
    .array(
      fc.tuple(
        queryName,
        fc.oneof(
          fc.constantFrom('1', '', 'yes'),
          fc.string({ maxLength: 6 }).map(encodeURIComponent),
        ),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('&'));
  const path = fc.constantFrom(
    '/event-streams',
    '/event-streams/es_1',
    '/event-streams/%zz',
    '/event-destinations',
    '/sampling/plan',
    '/no-such-route',
    '/',
    '//event-streams',
    '*',
  );
  const method = fc.oneof(
    fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD'),
    fc.constantFrom('BREW', 'get', 'GE T', 'G\u0000T', '', 'CONNECT'),
  );
  const extraHeader = fc.oneof(
    prototypeName.map((name) => `${name}: x`),
    fc.constantFrom(
      'X-Bad: a\u0000b',
      'X-Bad: a\rb',
      'Bad Name: x',
      'X-Fold: a\r\n b',
      ': empty-name',
      'X-Latin: caf\u00e9',
      'Authorization: Bearer nes_x',
      'Cookie: a=1; __proto__=2',
      'Content-Type: application/json',
      'Content-Type: text/plain',
      'Host: 127.0.0.1',
      'Expect: 100-continue',
    ),
    fc.integer({ min: 8_000, max: 20_000 }).map((size) => `X-Big: ${'h'.repeat(size)}`),
  );
  const body = fc.oneof(
    fc.constant(''),
    fc.constant('{"event_type":"http_request_complete"}'),
    fc.string({ maxLength: 40 }),
  );
  /** How the body is framed, valid or not; some framings need the client to close to end. */
  const framing = fc.constantFrom(
    'none',
    'length',
    'length-short',
    'length-twice',
    'length-and-chunked',
    'length-bogus',
    'chunked',
    'chunked-bad-size',
    'chunked-unfinished',
  );
  const ending = fc.oneof(
    fc.constant<RawEnding>({ kind: 'answer' }),
    fc.constant<RawEnding>({ kind: 'destroy' }),
    fc.integer({ min: 0, max: 20 }).map((ms): RawEnding => ({ kind: 'destroyAfter', ms })),
  );
  const rawRequest = fc
    .record({
      method,
      path,
      query: queryString,
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTX/1.1'),
      headers: fc.array(extraHeader, { maxLength: 3 }),
      body,
      framing,
      ending,
      /** Where the bytes are cut when the client goes away: a fraction of them. */
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      pipelined: fc.boolean(),
    })
    .map((generated) => {
      const bytes = Buffer.from(generated.body, 'utf8');
      const length = bytes.length;
      const framingHeaders: Record<string, string[]> = {
        none: [],
        length: [`Content-Length: ${length}`],
        'length-short': [`Content-Length: ${length + 10}`],
        'length-twice': [`Content-Length: ${length}`, `Content-Length: ${length + 1}`],
        'length-and-chunked': [`Content-Length: ${length}`, 'Transfer-Encoding: chunked'],
        'length-bogus': ['Content-Length: 1x'],
        chunked: ['Transfer-Encoding: chunked'],
        'chunked-bad-size': ['Transfer-Encoding: chunked'],
        'chunked-unfinished': ['Transfer-Encoding: chunked'],
      };
      const chunk = length.toString(16);
      const framedBody: Record<string, string> = {
        chunked: `${chunk}\r\n${generated.body}\r\n0\r\n\r\n`,
        'chunked-bad-size': `z${chunk}\r\n${generated.body}\r\n0\r\n\r\n`,
        'chunked-unfinished': `${chunk}\r\n${generated.body}\r\n`,
        'length-and-chunked': `${chunk}\r\n${generated.body}\r\n0\r\n\r\n`,
      };
      const target = generated.query ? `${generated.path}?${generated.query}` : generated.path;
      const head = [
        `${generated.method} ${target} ${generated.version}`,
        'Host: 127.0.0.1',
        ...(framingHeaders[generated.framing] ?? []),
        ...generated.headers,
        'Connection: close',
      ].join('\r\n');
      const one = `${head}\r\n\r\n${framedBody[generated.framing] ?? generated.body}`;
      const text = generated.pipelined ? `${one}${one}` : one;
      // Requests that stay incomplete until the client goes away: it goes away.
      const incomplete =
        generated.framing === 'length-short' || generated.framing === 'chunked-unfinished';
      const ending: RawEnding = incomplete ? { kind: 'destroy' } : generated.ending;
      const bytesToSend = Buffer.from(text, 'latin1');
      const cutAt =
        ending.kind === 'answer'
          ? bytesToSend.length
          : Math.floor(bytesToSend.length * generated.cut);
      return {
        parts: [bytesToSend.subarray(0, Math.max(cutAt, 1))],
        ending,
        describe: JSON.stringify(text.slice(0, 300)),
      };
    });

  it(
    `answers or closes every generated raw request, never a 5xx, and keeps serving after each batch (${RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(rawRequest, { minLength: 1, maxLength: 4 }), async (batch) => {
          const answers = await Promise.all(
            batch.map((request) => rawExchange(port, request.parts, request.ending)),
          );
          for (const [index, answer] of answers.entries()) {
            if (batch[index]?.ending.kind !== 'answer') continue;
            const status = answer.status ?? 'closed';
            const verdict = ALLOWED.includes(status) ? 'allowed' : status;
            expect([batch[index]?.describe, verdict]).toEqual([batch[index]?.describe, 'allowed']);
          }
          await expectServing();
          expect(escaped).toEqual([]);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      // About 10 ms a run: FC_RUNS may ask for many.
    },
    Math.max(20_000, RUNS * 50),
  );
});
