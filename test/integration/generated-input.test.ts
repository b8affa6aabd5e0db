/**
 * Generated bad input, straight into every HTTP route's handler (fast-check, seeded; FC_RUNS for
 * a longer run, FC_SEED to replay): any JSON and wrong types, huge and multi-byte strings, lone
 * surrogates, NUL, deep nesting, duplicate keys, base64 bodies, ids with path tricks, encodings
 * and lookalikes, queries, headers and content types, every credential variant. For each:
 * never a 5xx; every refusal is problem+json with a status the route documents; and a request
 * the function refuses itself never reaches the sandbox (counted in its request log).
 */

import fc from 'fast-check';
import { handler as alertmanagerWebhook } from '../../functions/alertmanagerWebhook.ts';
import { handler as applySamplingSchedule } from '../../functions/applySamplingSchedule.ts';
import { handler as pagerdutyWebhook } from '../../functions/pagerdutyWebhook.ts';
import { handler as slackCommand } from '../../functions/slackCommand.ts';
import { handler as slackWorker } from '../../functions/slackWorker.ts';
import { pagerDutySignature } from '../../lib/incidents/pagerduty.ts';
import { errorStatuses } from '../../lib/openapi/document.ts';
import { Problem } from '../../lib/schemas/problem.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import { slackSignature } from '../../lib/slack/signature.ts';
import {
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  type ServiceTokens,
  storeServiceSecret,
} from '../helpers/lambda.ts';
import { registerSecret } from '../helpers/logs.ts';
import { ROUTES } from '../helpers/routes.ts';
import { control, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
const RUNS = Number(process.env.FC_RUNS ?? 1000);
const SEED = Number(process.env.FC_SEED ?? 9241);
const SIGNING_SECRET = 'generated-input-signing-secret';
const PAGERDUTY_SECRET = 'generated-input-pagerduty-secret';
let tokens: ServiceTokens;
const savedEnv = { ...process.env };

beforeAll(async () => {
  registerSecret(SIGNING_SECRET, PAGERDUTY_SECRET);
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  await storeServiceSecret(ctx.url, ctx.apiKey, tokens, {
    slack: { signing_secret: SIGNING_SECRET, team_ids: ['T0GEN'], allowed_user_ids: ['U0GEN'] },
    pagerduty: { webhook_secrets: [PAGERDUTY_SECRET] },
  });
  clearServiceSecretCache();
  Object.assign(process.env, {
    SECRET_CACHE_SECONDS: '300',
    SLACK_RESPONSE_URL_PREFIXES: `${ctx.url}/_sandbox/slack/response/`,
    SLACK_WORKER_FUNCTION: 'worker',
    IDEMPOTENCY_TABLE: 'none',
    AWS_ENDPOINT_URL_LAMBDA: ctx.url,
  });
});
beforeEach(async () => {
  // The useSandbox reset empties the secrets: store them again, once per test.
  await storeServiceSecret(ctx.url, ctx.apiKey, tokens, {
    slack: { signing_secret: SIGNING_SECRET, team_ids: ['T0GEN'], allowed_user_ids: ['U0GEN'] },
    pagerduty: { webhook_secrets: [PAGERDUTY_SECRET] },
  });
  await control(ctx.url, 'PATCH', '/config', { rate_limit: false });
});
afterAll(() => {
  process.env = savedEnv;
});

// ---- generators -------------------------------------------------------------------------------

/** The sandbox's first destination, read when a value is generated (it is seeded per test). */
const existingDestination = fc.constant(null).map(() => [ctx.destinationIds[0] as string]);
const loneSurrogate = fc.constantFrom('\ud800', '\udfff', 'a\ud83dz');
const weirdString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  loneSurrogate,
  fc.constantFrom('\u0000', 'a\u0000b', '\u202e', '﻿', ''),
  fc.integer({ min: 250, max: 20_000 }).map((length) => 'é'.repeat(length)),
);
const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  weirdString,
  fc.constant(null),
  fc.double(),
  fc.integer({ min: 1, max: 400 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
);
const streamFieldsBody = fc.record(
  {
    event_type: fc.oneof(
      fc.constantFrom('http_request_complete', 'tcp_connection_closed'),
      jsonValue,
    ),
    destination_ids: fc.oneof(
      existingDestination,
      fc.array(jsonValue, { maxLength: 3 }),
      jsonValue,
    ),
    sampling_rate: fc.oneof(fc.double({ min: -2, max: 3, noNaN: false }), jsonValue),
    description: fc.oneof(weirdString, jsonValue),
    metadata: fc.oneof(weirdString, jsonValue),
    fields: fc.oneof(fc.array(weirdString, { maxLength: 3 }), jsonValue),
    id: jsonValue,
    __proto__: jsonValue,
    constructor: jsonValue,
  },
  { requiredKeys: [] },
);

/** Bodies the API may accept: valid fields, with strings at and past the byte limits. */
const plausibleBody = fc.record(
  {
    event_type: fc.constantFrom('http_request_complete', 'tcp_connection_closed'),
    destination_ids: existingDestination,
    sampling_rate: fc.double({ min: 0.005, max: 1.005, noNaN: true }),
    description: weirdString,
    metadata: fc.oneof(weirdString, fc.constant('x'.repeat(4097))),
    fields: fc.constantFrom([], ['http.request.method'], ['no.such.field']),
  },
  { requiredKeys: ['event_type', 'destination_ids'] },
);

/** A body as text: JSON of something, broken JSON, duplicate keys, deep nesting, or nothing. */
const bodyText = fc.oneof(
  { weight: 4, arbitrary: plausibleBody.map((body) => JSON.stringify(body)) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        event_type: fc.constant('http_request_complete'),
        destination_ids: existingDestination,
        description: fc.string({ maxLength: 40 }),
      })
      .map((body) => JSON.stringify(body)),
  },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          sampling_rate: fc.double({ min: 0.01, max: 1, noNaN: true }),
          description: fc.string({ maxLength: 40 }),
        },
        { requiredKeys: [] },
      )
      .map((body) => JSON.stringify(body)),
  },
  { weight: 2, arbitrary: fc.constant(JSON.stringify({ dry_run: true })) },
  streamFieldsBody.map((body) => JSON.stringify(body)),
  jsonValue.map((value) => JSON.stringify(value)),
  fc.constant('{"sampling_rate":0.5,"sampling_rate":"x"}'),
  fc.constant('{"__proto__":{"polluted":true},"sampling_rate":0.5}'),
  fc.constant(`{"description":"${'\\ud800'}"}`),
  fc
    .integer({ min: 500, max: 3_000 })
    .map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constant(undefined),
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-16',
    'application/json ; charset=UTF-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json, application/json',
    '',
  ),
  fc.string({ maxLength: 30 }),
  fc.constant(undefined),
);

const id = fc.oneof(
  fc.constantFrom(
    'es_2SandboxSampleEventStream00',
    'es_x/../../api_keys',
    'es_x%2F..%2Fapi_keys',
    '..%2f',
    'еs_cyrillic0',
    'es_\u0000',
    'ed_2SandboxKinesisDestination0',
    'ES_UPPER0',
  ),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => `es_${text}`),
  fc.integer({ min: 65, max: 5_000 }).map((length) => `es_${'a'.repeat(length)}`),
  fc.string({ maxLength: 12 }),
);

const query = fc.dictionary(
  fc.oneof(fc.constantFrom('limit', 'before_id', 'at', 'beforeId'), fc.string({ maxLength: 8 })),
  fc.oneof(
    fc.constantFrom(
      '1',
      '100',
      '101',
      '0',
      '-1',
      '1e2',
      'es_2SandboxSampleEventStream00',
      '2027-03-28T03:00:00+02:00',
      '0050-01-01T00:00:00Z',
    ),
    fc.string({ unit: 'binary', maxLength: 30 }),
  ),
  { maxKeys: 3 },
);

const authorization = () =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${tokens.write}`) },
    { weight: 2, arbitrary: fc.constant(`Bearer ${tokens.read}`) },
    fc.constant(`bearer   ${tokens.write}  `),
    fc.constant(`Bearer ${tokens.write},Bearer ${tokens.read}`),
    fc.constant(`Basic ${Buffer.from('a:b').toString('base64')}`),
    fc.constant(`Bearer ${tokens.write.slice(0, -1)}`),
    fc.string({ maxLength: 60 }),
    fc.constant(undefined),
  );

interface Request {
  headers: Record<string, string>;
  body?: string;
  base64: boolean;
  query: Record<string, string>;
  id: string;
}

const request = () =>
  fc
    .record({
      auth: authorization(),
      type: contentType,
      body: bodyText,
      base64: fc.boolean(),
      query,
      id,
      extra: fc.dictionary(
        fc.constantFrom('x-forwarded-proto', 'host', 'x-amz-date', 'cookie'),
        fc.string({ maxLength: 30 }),
        { maxKeys: 2 },
      ),
    })
    .map(({ auth, type, body, base64, query: q, id: streamId, extra }): Request => {
      const headers: Record<string, string> = { ...extra };
      if (auth !== undefined) headers.authorization = auth;
      if (type !== undefined) headers['content-type'] = type;
      return {
        headers,
        base64,
        query: q,
        id: streamId,
        ...(body === undefined
          ? {}
          : { body: base64 ? Buffer.from(body).toString('base64') : body }),
      };
    });

// ---- the property -----------------------------------------------------------------------------

const ngrokRequests = () => ctx.sandbox.requests.filter((entry) => entry.api === 'ngrok').length;

// Every route but Slack's (its own test is below: a signed form, answered in Slack).
describe.each(
  ROUTES.filter((route) => route.auth === 'none' || 'bearer' in route.auth).map(
    (route) => [route.operation, route] as const,
  ),
)('Generated requests: %s', (_operation, route) => {
  const documented = new Set([route.answer.status, ...errorStatuses(route)]);

  it(`never answers 5xx, refuses with a documented problem, and calls ngrok only for what it accepts (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(request(), async (generated) => {
        const before = ngrokRequests();
        const event = apiEvent({
          method: route.method,
          route: route.path,
          ...(route.params ? { pathParameters: { id: generated.id } } : {}),
          query: generated.query,
          headers: generated.headers,
          ...(generated.body === undefined ? {} : { rawBody: generated.body }),
          isBase64Encoded: generated.base64 && generated.body !== undefined,
        });
        delete event.headers.Authorization;
        if (generated.headers.authorization === undefined) delete event.headers.authorization;

        const answer = await invoke(route.handler, event, lambdaContext(5_000));

        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 400) {
          expect(documented).toContain(answer.status);
          expect(answer.headers['content-type']).toBe('application/problem+json');
          const problem = Problem.parse(answer.json);
          expect(problem.status).toBe(answer.status);
          // Refused by the function itself (not passed on from ngrok): ngrok never saw it.
          if (problem.error_code === undefined && answer.status !== 404 && answer.status !== 429) {
            expect(ngrokRequests()).toBe(before);
          }
        } else {
          expect(documented).toContain(answer.status);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });
});

describe('Generated requests: POST /slack/commands', () => {
  const form = fc
    .record(
      {
        team_id: fc.oneof(fc.constant('T0GEN'), fc.string({ maxLength: 10 })),
        user_id: fc.oneof(fc.constant('U0GEN'), fc.string({ maxLength: 10 })),
        channel_id: fc.string({ maxLength: 10 }),
        command: fc.constant('/eventstreams'),
        text: fc.oneof(
          fc.constantFrom(
            'help',
            'list',
            'get es_2SandboxSampleEventStream00',
            'sample es_x 25%',
            'plan 2027',
            'apply now',
            'sample es_2SandboxSampleEventStream00 0.5',
          ),
          fc.string({ unit: 'grapheme', maxLength: 60 }),
        ),
        response_url: fc.oneof(
          fc.constant(`${ctx.url}/_sandbox/slack/response/gen`),
          fc.constantFrom('https://evil.example/x', 'javascript:alert(1)', ''),
        ),
      },
      { requiredKeys: [] },
    )
    .map((fields) => new URLSearchParams(fields as Record<string, string>).toString());
  const signing = fc.oneof(
    fc.constant('good'),
    fc.constantFrom('none', 'wrong-secret', 'stale', 'tampered'),
  );

  it(`never answers 5xx; refuses unsigned requests with 401 before ngrok (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(form, fc.string({ unit: 'binary', maxLength: 200 })),
        signing,
        fc.boolean(),
        async (body, how, base64) => {
          const before = ngrokRequests();
          const timestamp = String(Math.floor(Date.now() / 1000) - (how === 'stale' ? 600 : 0));
          const signed = how === 'tampered' ? `${body}x` : body;
          const headers: Record<string, string> = {
            'Content-Type': 'application/x-www-form-urlencoded',
          };
          if (how !== 'none') {
            headers['X-Slack-Request-Timestamp'] = timestamp;
            headers['X-Slack-Signature'] = slackSignature(
              how === 'wrong-secret' ? 'nope' : SIGNING_SECRET,
              timestamp,
              Buffer.from(signed),
            );
          }
          const event = apiEvent({
            method: 'POST',
            route: '/slack/commands',
            headers,
            rawBody: base64 ? Buffer.from(body).toString('base64') : body,
            isBase64Encoded: base64,
          });

          const answer = await invoke(slackCommand, event, lambdaContext(5_000));

          expect(answer.status).toBeLessThan(500);
          if (how !== 'good') {
            expect(answer.status).toBe(401);
            expect(ngrokRequests()).toBe(before);
          } else if (answer.status !== 200) {
            expect([400, 413, 415]).toContain(answer.status);
            expect(answer.headers['content-type']).toBe('application/problem+json');
            expect(ngrokRequests()).toBe(before);
          } else {
            expect(answer.json).toMatchObject({
              response_type: expect.stringMatching(/^(ephemeral|in_channel)$/),
            });
          }
        },
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });
});

describe('Generated payloads: the alert webhooks', () => {
  const instant = fc.oneof(
    fc.constantFrom(
      '2026-12-05T09:00:00.123456789Z',
      '2026-12-05T10:00:00+01:00',
      '0001-01-01T00:00:00Z',
      'yesterday',
      '',
    ),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  );
  const labels = fc.oneof(
    fc.constant({ alertname: 'Gen', service: 'checkout', severity: 'critical' }),
    fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), { maxKeys: 6 }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const alert = fc.record(
    {
      status: fc.oneof(fc.constantFrom('firing', 'resolved'), fc.string({ maxLength: 8 })),
      labels,
      annotations: fc.oneof(fc.constant({}), fc.jsonValue({ maxDepth: 1 })),
      startsAt: instant,
      endsAt: instant,
      generatorURL: fc.string({ maxLength: 20 }),
      fingerprint: fc.oneof(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 }),
        fc.string({ maxLength: 70 }),
      ),
    },
    { requiredKeys: [] },
  );
  const payload = fc.record(
    {
      version: fc.oneof(fc.constantFrom('4', '1', '3', 4), fc.string({ maxLength: 3 })),
      status: fc.constantFrom('firing', 'resolved', 'unknown'),
      receiver: fc.string({ maxLength: 10 }),
      truncatedAlerts: fc.oneof(fc.nat(5), fc.integer({ min: -3, max: -1 }), fc.constant('2')),
      groupKey: fc.string({ maxLength: 10 }),
      alerts: fc.oneof(fc.array(alert, { maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
    },
    { requiredKeys: [] },
  );

  // Well-formed ones too, with labels that match the shipped incident or not, mixed statuses.
  const wellFormed = fc.record({
    version: fc.constantFrom('4', '1'),
    status: fc.constantFrom('firing', 'resolved'),
    truncatedAlerts: fc.nat(3),
    alerts: fc.array(
      fc.record({
        status: fc.constantFrom('firing', 'resolved'),
        labels: fc.oneof(
          fc.constant({ alertname: 'Gen', service: 'checkout', severity: 'critical' }),
          fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
        ),
        annotations: fc.constant({}),
        startsAt: fc
          .date({ noInvalidDate: true, min: new Date(0), max: new Date('2099-12-31T00:00:00Z') })
          .map((date) => date.toISOString()),
        endsAt: fc.constant('0001-01-01T00:00:00Z'),
        fingerprint: fc.string({
          unit: fc.constantFrom(...'0123456789abcdef'),
          minLength: 16,
          maxLength: 16,
        }),
      }),
      { maxLength: 5 },
    ),
  });

  it(`Alertmanager: never 5xx; 200, or 400 for what is no payload (${Math.ceil(RUNS / 5)} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(wellFormed, payload, fc.jsonValue({ maxDepth: 3 })),
        async (body) => {
          const event = apiEvent({
            method: 'POST',
            route: '/hooks/alertmanager',
            body,
            token: tokens.alerts,
          });

          const answer = await invoke(alertmanagerWebhook, event, lambdaContext(5_000));

          expect([200, 400]).toContain(answer.status);
          if (answer.status === 400) {
            expect(answer.headers['content-type']).toBe('application/problem+json');
          } else {
            expect(Array.isArray(answer.json.alerts)).toBe(true);
          }
        },
      ),
      { numRuns: Math.ceil(RUNS / 5), seed: SEED, endOnFailure: true },
    );
  });

  it(`PagerDuty: never 5xx; a signed event 200 or 400, anything else 401 (${Math.ceil(RUNS / 5)} runs)`, async () => {
    const event = fc.record(
      {
        id: fc.oneof(fc.uuid(), fc.string({ maxLength: 140 })),
        event_type: fc.oneof(
          fc.constantFrom(
            'incident.triggered',
            'incident.resolved',
            'incident.reopened',
            'pagey.ping',
          ),
          fc.string({ maxLength: 20 }),
        ),
        occurred_at: instant,
        data: fc.oneof(
          fc.record(
            {
              id: fc.oneof(fc.constantFrom('QGEN1', 'QGEN2'), fc.string({ maxLength: 12 })),
              number: fc.oneof(fc.nat(), fc.string({ maxLength: 3 })),
              service: fc.oneof(
                fc.record({ id: fc.constantFrom('PABC123', 'PZZZ') }),
                fc.jsonValue({ maxDepth: 1 }),
              ),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue({ maxDepth: 1 }),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          event.map((each) => ({ event: each })),
          fc.jsonValue({ maxDepth: 3 }),
        ),
        fc.constantFrom('good', 'none', 'wrong'),
        async (body, how) => {
          const raw = JSON.stringify(body) ?? 'null';
          const headers: Record<string, string> = { 'Content-Type': 'application/json' };
          if (how !== 'none') {
            headers['X-PagerDuty-Signature'] = pagerDutySignature(
              how === 'good' ? PAGERDUTY_SECRET : 'nope',
              Buffer.from(raw),
            );
          }
          const answer = await invoke(
            pagerdutyWebhook,
            apiEvent({ method: 'POST', route: '/hooks/pagerduty', headers, rawBody: raw }),
            lambdaContext(5_000),
          );

          expect(answer.status).toBe(how === 'good' ? answer.status : 401);
          expect([200, 400, 401]).toContain(answer.status);
        },
      ),
      { numRuns: Math.ceil(RUNS / 5), seed: SEED, endOnFailure: true },
    );
  });
});

describe('Generated events: the functions no HTTP route reaches', () => {
  it.each([
    ['applySamplingSchedule', applySamplingSchedule],
    ['slackWorker', slackWorker],
  ])('%s refuses any event that is not its own, before any ngrok call', async (_name, handler) => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record(
            {
              cause: fc.string(),
              rules: fc.array(fc.string()),
              request_id: fc.string(),
              text: fc.string(),
            },
            { requiredKeys: [] },
          ),
        ),
        async (event) => {
          const before = ngrokRequests();
          await expect(
            (handler as unknown as (e: unknown, c: unknown) => Promise<unknown>)(
              event,
              lambdaContext(5_000),
            ),
          ).rejects.toMatchObject({ name: 'JobInputError' });
          expect(ngrokRequests()).toBe(before);
        },
      ),
      { numRuns: Math.ceil(RUNS / 5), seed: SEED, endOnFailure: true },
    );
  });
});
