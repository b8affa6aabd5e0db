/**
 * The Slack command's pure parts: the signature, the command parser, and messages within Slack's
 * limits.
 */
import fc from 'fast-check';
import {
  alwaysWorker,
  changes,
  HELP_LINES,
  parseCommand,
  parseRate,
  USAGE_HINT,
} from '../../lib/slack/commands.ts';
import {
  actorText,
  instantText,
  MAX_BLOCKS,
  MAX_SECTION_CHARS,
  sectionsOf,
} from '../../lib/slack/messages.ts';
import { isAllowedResponseUrl } from '../../lib/slack/response-url.ts';
import { slackSignature, verifySlackSignature } from '../../lib/slack/signature.ts';

describe('verifySlackSignature', () => {
  // Slack's own example ("Verifying requests from Slack"): this secret, timestamp and body give
  // this signature.
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const timestamp = '1531420618';
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const now = Number(timestamp) * 1000;

  it('matches Slack’s published example', () => {
    expect(slackSignature(secret, timestamp, Buffer.from(body))).toBe(signature);
    expect(
      verifySlackSignature({
        signingSecret: secret,
        timestamp,
        signature,
        rawBody: Buffer.from(body),
        now,
      }),
    ).toEqual({ ok: true });
  });

  it('refuses a stale or future timestamp, a changed body, a missing header, no secret', () => {
    const base = { signingSecret: secret, timestamp, signature, rawBody: Buffer.from(body), now };

    expect(verifySlackSignature({ ...base, now: now + 301_000 })).toMatchObject({ ok: false });
    expect(verifySlackSignature({ ...base, now: now - 301_000 })).toMatchObject({ ok: false });
    expect(verifySlackSignature({ ...base, now: now + 299_000 })).toEqual({ ok: true });
    expect(verifySlackSignature({ ...base, rawBody: Buffer.from(`${body}x`) })).toMatchObject({
      ok: false,
      reason: 'the signature does not match',
    });
    expect(verifySlackSignature({ ...base, signature: undefined })).toMatchObject({ ok: false });
    expect(verifySlackSignature({ ...base, timestamp: '15314206.18' })).toMatchObject({
      ok: false,
    });
    expect(verifySlackSignature({ ...base, signingSecret: '' })).toMatchObject({
      ok: false,
      reason: 'no Slack signing secret is configured',
    });
    expect(verifySlackSignature({ ...base, signature: `${signature.slice(0, -1)}` })).toMatchObject(
      {
        ok: false,
      },
    );
  });
});

describe('parseCommand', () => {
  it.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['  LIST  ', { kind: 'list', prefix: null }],
    ['list prod/ api', { kind: 'list', prefix: 'prod/ api' }],
    ['get es_abc123', { kind: 'get', id: 'es_abc123' }],
    ['sample es_abc123 25%', { kind: 'sample', id: 'es_abc123', rate: 0.25 }],
    ['sample es_abc123 0.5', { kind: 'sample', id: 'es_abc123', rate: 0.5 }],
    ['sample es_abc123 25 %', { kind: 'sample', id: 'es_abc123', rate: 0.25 }],
    [
      'sample es_abc123 100% for 1m INC-1',
      {
        kind: 'sample',
        id: 'es_abc123',
        rate: 1,
        hold: { duration: '1m', ms: 60_000, reason: 'INC-1' },
      },
    ],
    [
      'sample es_abc123 25 % FOR 1h30m load test <b>',
      {
        kind: 'sample',
        id: 'es_abc123',
        rate: 0.25,
        hold: { duration: '1h30m', ms: 5_400_000, reason: 'load test <b>' },
      },
    ],
    [
      'sample es_abc123 0.5 for 1d',
      {
        kind: 'sample',
        id: 'es_abc123',
        rate: 0.5,
        hold: { duration: '1d', ms: 86_400_000, reason: '' },
      },
    ],
    ['release es_abc123', { kind: 'release', id: 'es_abc123' }],
    ['overrides', { kind: 'overrides' }],
    ['plan', { kind: 'plan', at: null }],
    ['plan 2027-03-28T03:00:00+02:00', { kind: 'plan', at: Date.parse('2027-03-28T01:00:00Z') }],
    ['apply', { kind: 'apply' }],
  ])('%j', (text, command) => {
    expect(parseCommand(text)).toEqual(command);
  });

  it.each([
    ['get', '`get` takes one stream id'],
    ['get ed_abc', '`ed_abc` is not an Event Stream id'],
    ['get es_../x', 'is not an Event Stream id'],
    ['sample es_abc', '`sample` takes a stream id and a rate'],
    ['sample es_abc 0', '`0` is not a rate'],
    ['sample es_abc 101%', '`101%` is not a rate'],
    ['sample es_abc 25% during 1h', '`sample` takes a stream id and a rate'],
    ['sample es_abc 25% for', '`for` takes a duration: `30m`, `2h`, `1h30m` or `1d`'],
    ['sample es_abc 25% for 0m', '`0m` lasts no time at all'],
    ['sample es_abc 25% for soon', '`soon` is not a duration'],
    ['sample es_abc 25% for 90s', '`90s` is not a duration'],
    ['sample es_abc 150% for 1h', '`150%` is not a rate'],
    ['sample ed_abc 25% for 1h', '`ed_abc` is not an Event Stream id'],
    ['release', '`release` takes one stream id'],
    ['release es_abc es_def', '`release` takes one stream id'],
    ['release nope', '`nope` is not an Event Stream id'],
    ['overrides all', '`overrides` takes nothing after it'],
    ['sample es_abc 0.001', '`0.001` is not a rate'],
    ['plan now', '`plan` takes an RFC 3339 instant'],
    ['apply now', '`apply` takes nothing after it'],
    ['delete es_abc', '`delete` is not a command'],
  ])('%j is invalid', (text, reason) => {
    expect(parseCommand(text)).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining(reason),
    });
  });

  it('refuses an override longer than samplingOverrideMaxHours (default 24), and takes one as long', () => {
    const saved = process.env.SAMPLING_OVERRIDE_MAX_HOURS;
    try {
      delete process.env.SAMPLING_OVERRIDE_MAX_HOURS;
      expect(parseCommand('sample es_abc 25% for 3d')).toEqual({
        kind: 'invalid',
        reason:
          '`for 3d` gives an override of 3d, longer than the maximum of 24 hours (the samplingOverrideMaxHours setting): every override ends by itself',
      });
      expect(parseCommand('sample es_abc 25% for 24h')).toMatchObject({ hold: { ms: 86_400_000 } });
      process.env.SAMPLING_OVERRIDE_MAX_HOURS = '48';
      expect(parseCommand('sample es_abc 25% for 2d')).toMatchObject({ hold: { ms: 172_800_000 } });
      expect(parseCommand('sample es_abc 25% for 2d1m')).toEqual({
        kind: 'invalid',
        reason: expect.stringContaining(
          '`for 2d1m` gives an override of 2d 1m, longer than the maximum of 48 hours',
        ),
      });
    } finally {
      if (saved === undefined) delete process.env.SAMPLING_OVERRIDE_MAX_HOURS;
      else process.env.SAMPLING_OVERRIDE_MAX_HOURS = saved;
    }
  });

  it('refuses a reason longer than the HTTP API takes (500 characters)', () => {
    expect(parseCommand(`sample es_abc 25% for 1h ${'x'.repeat(500)}`)).toMatchObject({
      kind: 'sample',
    });
    expect(parseCommand(`sample es_abc 25% for 1h ${'x'.repeat(501)}`)).toEqual({
      kind: 'invalid',
      reason: 'the reason is longer than 500 characters',
    });
  });

  it('sends `sample … for`, `release` and `overrides` to the worker; plain `sample` runs at once', () => {
    const worker = (text: string) => alwaysWorker(parseCommand(text));

    expect(worker('sample es_abc 25%')).toBe(false);
    expect(worker('sample es_abc 25% for 2h')).toBe(true);
    expect(worker('release es_abc')).toBe(true);
    expect(worker('overrides')).toBe(true);
    expect(worker('get es_abc')).toBe(false);
    expect(changes(parseCommand('sample es_abc 25% for 2h'))).toBe(true);
    expect(changes(parseCommand('release es_abc'))).toBe(true);
    expect(changes(parseCommand('overrides'))).toBe(false);
  });

  it('lists every command in the help, and who may change streams', () => {
    const help = HELP_LINES.join('\n');

    expect(help).toContain('`sample <es_id> <rate> [for <duration> [reason]]`');
    expect(help).toContain('`release <es_id>`');
    expect(help).toContain('`overrides`');
    expect(help).toContain('`sample`, `release` and `apply` are for the users the service allows.');
  });

  it('reads rates as fractions or percentages, 0.01 to 1.00, and nothing else', () => {
    expect(parseRate('1%')).toBe(0.01);
    expect(parseRate('100%')).toBe(1);
    expect(parseRate('25 %')).toBe(0.25);
    expect(parseRate('12.5%')).toBe(0.125);
    expect(parseRate('1')).toBe(1);
    expect(parseRate('.5')).toBe(0.5);
    for (const text of ['0.009', '1.01', '-0.5', '1e-1', 'NaN', '0x1', '½', '']) {
      expect(parseRate(text)).toBeUndefined();
    }
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const command = parseCommand(text);
        expect([
          'help',
          'list',
          'get',
          'sample',
          'release',
          'overrides',
          'plan',
          'apply',
          'invalid',
        ]).toContain(command.kind);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300), seed: 7 },
    );
  });
});

describe('sectionsOf: within Slack’s limits', () => {
  it('packs lines into sections of at most 3,000 characters and 50 blocks, counting the rest', () => {
    const lines = Array.from({ length: 2000 }, (_, index) => `line ${index} ${'x'.repeat(80)}`);

    const blocks = sectionsOf(lines, MAX_BLOCKS - 1);

    expect(blocks.length).toBeLessThanOrEqual(MAX_BLOCKS - 1);
    const texts = blocks.map((block) =>
      block.type === 'section' ? (block.text?.text ?? '') : JSON.stringify(block),
    );
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(MAX_SECTION_CHARS);
    const shown = texts
      .join('\n')
      .split('\n')
      .filter((line) => line.startsWith('line ')).length;
    expect(texts.at(-1)).toContain(`…and ${2000 - shown} more`);
  });

  it('shows everything when it fits', () => {
    const blocks = sectionsOf(['a', 'b'], 10);

    expect(blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'a\nb' } }]);
  });
});

describe('override messages', () => {
  it('say an instant in the rule’s zone and in UTC, or in UTC alone', () => {
    const instant = Date.parse('2027-03-28T12:30:42Z');

    expect(instantText(instant, 'Europe/Berlin')).toBe(
      '2027-03-28 14:30 Europe/Berlin (2027-03-28 12:30 UTC)',
    );
    expect(instantText(instant, null)).toBe('2027-03-28 12:30 UTC');
  });

  it('name who set an override, escaped: a Slack user as a mention only when it is a user id', () => {
    expect(actorText({ kind: 'slack', name: 'U0ALLOWED' })).toBe('<@U0ALLOWED>');
    expect(actorText({ kind: 'slack', name: '<!channel>' })).toBe('slack `&lt;!channel&gt;`');
    // An alert's override names its source.
    expect(actorText({ kind: 'alertmanager', name: 'CheckoutErrors' })).toBe(
      'Alertmanager alert `CheckoutErrors`',
    );
    expect(actorText({ kind: 'pagerduty', name: '#4211' })).toBe('PagerDuty incident `#4211`');
    expect(actorText({ kind: 'http', name: 'ci <x>' })).toBe('HTTP caller `ci &lt;x&gt;`');
    expect(actorText({ kind: 'schedule', name: 'scheduler' })).toBe('the schedule');
  });
});

describe('isAllowedResponseUrl', () => {
  it('treats a configured prefix as a folder: never a lookalike host', () => {
    process.env.SLACK_RESPONSE_URL_PREFIXES = 'https://hooks.slack.com';

    expect(isAllowedResponseUrl('https://hooks.slack.com/commands/x')).toBe(true);
    expect(isAllowedResponseUrl('https://hooks.slack.com.evil.example/x')).toBe(false);
    delete process.env.SLACK_RESPONSE_URL_PREFIXES;
  });

  it('allows Slack’s hooks only, by default; never credentials or lookalikes', () => {
    delete process.env.SLACK_RESPONSE_URL_PREFIXES;

    expect(isAllowedResponseUrl('https://hooks.slack.com/commands/T1/2/abc')).toBe(true);
    for (const url of [
      'http://hooks.slack.com/commands/T1/2/abc',
      'https://hooks.slack.com.evil.example/commands',
      'https://evil.example/https://hooks.slack.com/',
      'https://user:pass@hooks.slack.com/commands/x',
      'https://hooks.slack.com/',
      'not a url',
    ]) {
      expect(isAllowedResponseUrl(url)).toBe(false);
    }
  });
});

describe('the command function cannot write overrides', () => {
  const esbuild = require('esbuild') as typeof import('esbuild');
  // esbuild's service process ends with the tests.
  afterAll(() => esbuild.stop());

  /** The project's files esbuild bundles for a function (as serverless-esbuild does). */
  async function bundled(entry: string): Promise<string[]> {
    const { metafile } = await esbuild.build({
      entryPoints: [`${__dirname}/../../${entry}`],
      absWorkingDir: `${__dirname}/../..`,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      packages: 'external',
      logLevel: 'silent',
    });
    return Object.keys(metafile?.inputs ?? {});
  }

  it('slackCommand bundles no code that sets or ends an override or makes its schedules; slackWorker does', async () => {
    const writes = ['lib/overrides/operations.ts', 'lib/overrides/schedules.ts'];
    const command = await bundled('functions/slackCommand.ts');
    const worker = await bundled('functions/slackWorker.ts');

    for (const file of writes) {
      expect(command).not.toContainEqual(expect.stringMatching(`${file}$`));
    }
    expect(command).toContainEqual(expect.stringMatching('lib/slack/commands.ts$'));
    expect(worker).toEqual(
      expect.arrayContaining(writes.map((file) => expect.stringMatching(`${file}$`))),
    );
  });
});

describe('slack-app-manifest.yml', () => {
  it('declares the /eventstreams command on this API’s route, with only the commands scope', () => {
    const { parse } = require('yaml') as typeof import('yaml');
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const manifest = parse(readFileSync(`${__dirname}/../../slack-app-manifest.yml`, 'utf8'));

    expect(manifest.features.slash_commands).toEqual([
      expect.objectContaining({
        command: '/eventstreams',
        url: expect.stringMatching(/\/slack\/commands$/),
      }),
    ]);
    expect(manifest.oauth_config.scopes).toEqual({ bot: ['commands'] });
  });

  it('shows the usage of every command of the table, as the help says it', () => {
    const { parse } = require('yaml') as typeof import('yaml');
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const manifest = parse(readFileSync(`${__dirname}/../../slack-app-manifest.yml`, 'utf8'));

    expect(manifest.features.slash_commands[0].usage_hint).toBe(USAGE_HINT);
    expect(USAGE_HINT).toBe(
      'help | list [description prefix] | get <es_id> | sample <es_id> <rate> [for <duration> [reason]] | release <es_id> | overrides | plan [instant] | apply',
    );
  });
});
