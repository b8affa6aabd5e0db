// biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field
/**
 * `serverless package`, run for real on a copy of the repository, makes what a deploy needs and
 * nothing more: one bundle per function (no sandbox, no tests), the routes, least-privilege IAM.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { serverlessFunctionNames } from '../../scripts/routes.ts';
import { ROUTES, routeKey } from '../helpers/routes.ts';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
/** Every function serverless.yml declares, and the routes the function files declare. */
const FUNCTIONS = serverlessFunctionNames(ROOT);
const ROUTE_KEYS = ROUTES.map(routeKey);
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/ngrok-AbCdEf';

let work: string;
let resources: Record<string, any>;
/** The `--stage prod` package (made by the test that checks it, read by a later one). */
let prod: Record<string, any> | undefined;

function runPackage(dir: string, params: string[]) {
  return spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', ...params],
    {
      cwd: dir,
      encoding: 'utf8',
      // No AWS credentials anywhere: packaging must not need them.
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: 'none-such',
      },
    },
  );
}

function packageService(dir: string, params: string[] = []) {
  const run = runPackage(dir, params);
  if (run.status !== 0) throw new Error(`serverless package failed:\n${run.stdout}\n${run.stderr}`);
  const template = JSON.parse(
    readFileSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  return template.Resources as Record<string, any>;
}

function ofType(type: string) {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ngrok-event-streams-package-'));
  cpSync(ROOT, work, {
    recursive: true,
    filter: (source) =>
      !/[/\\](node_modules|\.git|\.serverless|\.esbuild[^/\\]*|coverage)$/.test(source),
  });
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
  resources = packageService(work);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * What each function may do, written here apart from infra/iam.ts (a mistake there must not
 * confirm itself): besides its own logs, the kinds below. docs/operating.md "Permissions" shows
 * the same.
 */
const ALERT_HOOK = [
  'secret',
  'read overrides',
  'read marks',
  'put overrides',
  'end overrides',
  'override schedules',
  'pass scheduler role',
] as const;
const PERMISSIONS: Record<string, readonly (keyof typeof KINDS)[]> = {
  createEventStream: ['secret', 'idempotency keys'],
  getOpenApi: [],
  getSamplingPlan: ['secret', 'read overrides'],
  applySampling: ['secret', 'read overrides'],
  applySamplingSchedule: ['secret', 'failed events', 'read overrides', 'remove overrides'],
  setSamplingOverride: [
    'secret',
    'read overrides',
    'put overrides',
    'override schedules',
    'pass scheduler role',
  ],
  endSamplingOverride: ['secret', 'read overrides', 'end overrides', 'delete override schedules'],
  alertmanagerWebhook: ALERT_HOOK,
  pagerdutyWebhook: ALERT_HOOK,
  listSamplingOverrides: ['secret', 'read overrides'],
  slackCommand: ['secret', 'invoke worker', 'read overrides'],
  slackWorker: [
    'secret',
    'slack records',
    'read overrides',
    'put overrides',
    'end overrides',
    'override schedules',
    'pass scheduler role',
  ],
};
/** Any other function reads the secret (its callers' token hashes, the ngrok key), and no more. */
const DEFAULT_PERMISSIONS: readonly (keyof typeof KINDS)[] = ['secret'];

/** Each kind of permission as `action resource` pairs; `secret` is the stage's secret resource. */
const KINDS = {
  secret: (secret: string) => [`secretsmanager:GetSecretValue ${secret}`],
  'invoke worker': () => ['lambda:InvokeFunction SlackWorkerLambdaFunction.Arn'],
  'slack records': () =>
    ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map(
      (action) => `dynamodb:${action} SlackIdempotencyTable.Arn`,
    ),
  'idempotency keys': () =>
    ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map(
      (action) => `dynamodb:${action} IdempotencyKeysTable.Arn`,
    ),
  'failed events': () => ['sqs:SendMessage SamplingDeadLetterQueue.Arn'],
  'read overrides': () =>
    ['Query', 'Scan'].map((action) => `dynamodb:${action} SamplingOverridesTable.Arn`),
  'put overrides': () => ['dynamodb:PutItem SamplingOverridesTable.Arn'],
  'end overrides': () =>
    ['UpdateItem', 'DeleteItem'].map((action) => `dynamodb:${action} SamplingOverridesTable.Arn`),
  'remove overrides': () => ['dynamodb:DeleteItem SamplingOverridesTable.Arn'],
  'read marks': () => ['dynamodb:GetItem SamplingOverridesTable.Arn'],
  'override schedules': (_secret: string, stage = 'dev') =>
    ['CreateSchedule', 'UpdateSchedule', 'DeleteSchedule'].map(
      (action) =>
        `scheduler:${action} arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/ngrok-event-streams-${stage}-sampling/*`,
    ),
  'delete override schedules': (_secret: string, stage = 'dev') => [
    `scheduler:DeleteSchedule arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/ngrok-event-streams-${stage}-sampling/*`,
  ],
  'pass scheduler role': () => ['iam:PassRole SamplingSchedulerRole.Arn'],
};

/** A CloudFormation resource value as one string: an ARN, a Sub's template, `Id.Arn`. */
function resourceText(resource: any): string {
  if (typeof resource === 'string') return resource;
  if (resource['Fn::Sub'] !== undefined) return resource['Fn::Sub'];
  if (resource['Fn::GetAtt'] !== undefined) return resource['Fn::GetAtt'].join('.');
  return JSON.stringify(resource);
}

/** Every function's role, as `action resource` pairs, sorted; checks each role's shape too. */
function grantedPairs(template: Record<string, any>): Record<string, string[]> {
  const granted: Record<string, string[]> = {};
  for (const [id, fn] of Object.entries(template)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const name = id.replace(/LambdaFunction$/, '');
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const role = template[roleId].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    granted[`${name[0]?.toLowerCase()}${name.slice(1)}`] = role.Policies.flatMap((policy: any) =>
      policy.PolicyDocument.Statement.flatMap((statement: any) => {
        expect(statement.Effect).toBe('Allow');
        return [statement.Action]
          .flat()
          .map((action: string) => `${action} ${resourceText(statement.Resource)}`);
      }),
    ).sort();
  }
  return granted;
}

/** The matrix: every function has exactly its permissions, no more, no fewer. */
function expectPermissionMatrix(template: Record<string, any>, stage: string, secret: string) {
  const logs = (name: string) =>
    ['logs:CreateLogStream', 'logs:PutLogEvents'].map(
      (action) =>
        `${action} arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/ngrok-event-streams-${stage}-${name}:*`,
    );
  const expected = Object.fromEntries(
    FUNCTIONS.map((name) => [
      name,
      [
        ...logs(name),
        ...(PERMISSIONS[name] ?? DEFAULT_PERMISSIONS).flatMap((kind) => KINDS[kind](secret, stage)),
      ].sort(),
    ]),
  );
  expect(grantedPairs(template)).toEqual(expected);
  // No role the framework would share between functions.
  expect(template.IamRoleLambdaExecution).toBeUndefined();
}

function lambdaEnvironments(template: Record<string, any>) {
  return Object.values(template)
    .filter((resource) => resource.Type === 'AWS::Lambda::Function')
    .map((fn) => fn.Properties.Environment.Variables);
}

/** Runs a packaged bundle's handler in a fresh Node 24 process and returns what it printed. */
async function runBundle(
  name: string,
  event: object,
  env: Record<string, string>,
  { withoutSourceMap = false } = {},
) {
  const zip = await JSZip.loadAsync(readFileSync(join(work, '.serverless', `${name}.zip`)));
  const dir = mkdtempSync(join(work, 'bundle-'));
  const files = Object.keys(zip.files).filter((file) => !zip.files[file]?.dir);
  for (const file of files.filter((each) => !(withoutSourceMap && each.endsWith('.map')))) {
    const target = join(dir, file.replace(/^functions\//, ''));
    writeFileSync(target, (await zip.file(file)?.async('nodebuffer')) ?? '');
  }
  const script = `
    const { handler } = require(${JSON.stringify(join(dir, `${name}.cjs`))});
    handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 3000, awsRequestId: 'r', functionName: '${name}' })
      .then((result) => process.stdout.write('RESULT' + JSON.stringify(result)));`;
  const run = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const at = run.stdout.indexOf('RESULT');
  return {
    result: at >= 0 ? JSON.parse(run.stdout.slice(at + 'RESULT'.length)) : undefined,
    // Powertools writes ERROR lines to stderr, the others to stdout.
    lines: `${run.stdout.slice(0, at >= 0 ? at : undefined)}\n${run.stderr}`
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line)),
    stderr: run.stderr,
  };
}

const LIST_EVENT = (headers: Record<string, string>) => ({
  version: '2.0',
  routeKey: 'GET /event-streams',
  rawPath: '/event-streams',
  headers,
  requestContext: {
    http: { method: 'GET' },
    stage: '$default',
    domainName: 'x',
    requestId: 'apigw-request-1',
  },
});

describe('serverless package', () => {
  it("makes one zip per function, each holding only that function's bundle and its source map", async () => {
    const zips = readdirSync(join(work, '.serverless')).filter((file) => file.endsWith('.zip'));

    expect(zips.sort()).toEqual(FUNCTIONS.map((name) => `${name}.zip`).sort());
    for (const name of FUNCTIONS) {
      const zip = await JSZip.loadAsync(readFileSync(join(work, '.serverless', `${name}.zip`)));
      const files = Object.keys(zip.files).filter((file) => !zip.files[file]?.dir);
      expect(files.sort()).toEqual([`functions/${name}.cjs`, `functions/${name}.cjs.map`]);

      const bundle = await zip.file(`functions/${name}.cjs`)?.async('string');
      for (const marker of [
        '/_sandbox',
        'SandboxKinesisDestination',
        'startSandbox',
        'seedSamples',
        'useSandbox',
      ]) {
        expect(bundle).not.toContain(marker);
      }
      const map = JSON.parse((await zip.file(`functions/${name}.cjs.map`)?.async('string')) ?? '');
      expect(map.sources).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`(^|/)functions/${name}\\.ts$`))]),
      );
      expect(map.sourcesContent).toBeUndefined();
    }
  });

  it('bundles only what the functions use: two parts of undici, HTTP/1 alone, no fetch, one parser build, one credential source', async () => {
    const undiciFile = (path: string) =>
      readFileSync(join(ROOT, 'node_modules', 'undici', 'lib', path), 'utf8');
    const blob = (path: string) => /wasmBase64 = '([^']+)'/.exec(undiciFile(path))?.[1] ?? '';
    // The two builds of llhttp share their first 1,700 characters of base64, not these.
    const simd = blob('llhttp/llhttp_simd-wasm.js').slice(4000, 4200);
    const withoutSimd = blob('llhttp/llhttp-wasm.js').slice(4000, 4200);
    expect(simd).toHaveLength(200);
    expect(simd).not.toBe(withoutSimd);

    // Every function but those of public routes (they call nothing) talks to ngrok.
    const publicRoutes = ROUTES.filter((route) => route.auth === 'none').map(
      (route) => route.function,
    );
    for (const name of FUNCTIONS.filter((each) => !publicRoutes.includes(each))) {
      const zip = await JSZip.loadAsync(readFileSync(join(work, '.serverless', `${name}.zip`)));
      const bundle = (await zip.file(`functions/${name}.cjs`)?.async('string')) ?? '';
      expect(bundle).toContain(simd);
      expect(bundle).not.toContain(withoutSimd);
      // undici's entry point (its `request` wrapper's message) and its experimental parser.
      expect(bundle).not.toContain('Did you mean opts.client');
      expect(bundle).not.toContain('UNDICI_USE_MILO');
      // undici's HTTP/2 client, and with it Node.js's http2 (infra/esbuild-plugins.cjs).
      expect(bundle).not.toContain('node:http2');
      expect(bundle).toContain("undici's HTTP/2 client is not in this bundle");
      // undici's fetch, which its client loads for FormData bodies alone.
      expect(bundle).not.toContain('Body is unusable');
      // The AWS SDK's credential chain beyond the environment.
      expect(bundle).not.toContain('credential-provider-ini');
      expect(bundle).not.toContain('credential-provider-sso');
      // No import() left to start Node's ES module loader in a CommonJS bundle.
      expect(bundle).not.toMatch(/\bimport\(/);
    }
  });

  it('declares every HTTP API route, each on its own function', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties.RouteKey);
    const functions = ofType('AWS::Lambda::Function').map(([, fn]) => fn.Properties);

    expect(routes.sort()).toEqual([...ROUTE_KEYS].sort());
    expect(functions.map((fn) => fn.Handler).sort()).toEqual(
      FUNCTIONS.map((name) => `functions/${name}.handler`).sort(),
    );
    for (const fn of functions) {
      expect(fn.Runtime).toBe('nodejs24.x');
      expect(fn.Architectures).toEqual(['arm64']);
      expect(fn.Environment.Variables).toMatchObject({
        SECRET_ID: 'ngrok-event-streams-dev',
        NGROK_API_URL: 'https://api.ngrok.com',
        POWERTOOLS_SERVICE_NAME: 'ngrok-event-streams',
        POWERTOOLS_METRICS_NAMESPACE: 'NgrokEventStreams',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        SAMPLING_REQUESTS_PER_MINUTE: '60',
        SLACK_RESPONSE_URL_PREFIXES: 'https://hooks.slack.com/',
      });
      // Source maps are read when an error is logged, not by Node.js at every cold start.
      expect(fn.Environment.Variables.NODE_OPTIONS).toBeUndefined();
    }
    // A function knows the names of the resources it may use, and no others.
    const named = (variable: string) =>
      ofType('AWS::Lambda::Function')
        .filter(([, fn]) => variable in fn.Properties.Environment.Variables)
        .map(([id, fn]) => [id, fn.Properties.Environment.Variables[variable]]);
    expect(named('SLACK_WORKER_FUNCTION')).toEqual([
      ['SlackCommandLambdaFunction', 'ngrok-event-streams-dev-slackWorker'],
    ]);
    expect(named('IDEMPOTENCY_TABLE')).toEqual([
      ['SlackWorkerLambdaFunction', 'ngrok-event-streams-dev-slack-idempotency'],
    ]);
  });

  it('gives each function its own role with exactly the permissions of the table, for a secret name', () => {
    expectPermissionMatrix(
      resources,
      'dev',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
      'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:ngrok-event-streams-dev-??????',
    );
  });

  it("shows the same permissions in docs/operating.md's table", () => {
    const readme = readFileSync(join(ROOT, 'docs', 'operating.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Permissions'));
    const actionsOf = (cell: string) =>
      [...new Set([...cell.matchAll(/`([a-z0-9]+:\w+)`/g)].map(([, action]) => action))].sort();
    // A row names one function or several (`a`, `b`): the same permissions each.
    const named = Object.fromEntries(
      [...section.matchAll(/^\| ((?:`\w+`(?:, )?)+) \| ([^|]*) \|/gm)].flatMap(([, names, cell]) =>
        [...(names ?? '').matchAll(/`(\w+)`/g)].map(([, name]) => [name, actionsOf(cell ?? '')]),
      ),
    );
    // "any function not below": every other function.
    const others = actionsOf(
      /^\| any function not below[^|]*\| ([^|]*) \|/m.exec(section)?.[1] ?? '',
    );
    const rows = Object.fromEntries(FUNCTIONS.map((name) => [name, named[name] ?? others]));
    const actions = Object.fromEntries(
      Object.entries(grantedPairs(resources)).map(([name, pairs]) => [
        name,
        [...new Set(pairs.map((pair) => pair.split(' ')[0]))]
          .filter((action) => !action?.startsWith('logs:'))
          .sort(),
      ]),
    );
    expect(rows).toEqual(actions);
    // Every function's own logs are said once, above the table.
    expect(section).toContain('`logs:CreateLogStream` and `logs:PutLogEvents`');
  });

  it("sets a log retention on every function's log group and on the access logs", () => {
    const groups = ofType('AWS::Logs::LogGroup');

    expect(groups).toHaveLength(FUNCTIONS.length + 1);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(7);
  });

  it('writes HTTP API access logs in JSON, with the request id', () => {
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, any]];
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);

    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'],
    });
  });

  it('throttles the HTTP API stage, below what the ngrok account allows', () => {
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, any]];

    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 1,
      ThrottlingBurstLimit: 10,
    });
  });

  it("alarms on the HTTP API's 5xx answers and on ngrok refusing the service's key", () => {
    const alarms = Object.fromEntries(ofType('AWS::CloudWatch::Alarm'));
    const filters = ofType('AWS::Logs::MetricFilter').map(([, filter]) => filter.Properties);

    expect(alarms.HttpApi5xxAlarm.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
      Threshold: 1,
    });
    expect(alarms.UpstreamRejectedKeyAlarm.Properties).toMatchObject({
      Namespace: 'NgrokEventStreams',
      MetricName: 'UpstreamRejectedKey',
    });
    expect(alarms.HttpApi5xxAlarm.Properties).not.toHaveProperty('AlarmActions');
    expect(filters.map((filter) => filter.LogGroupName.Ref).sort()).toEqual(
      FUNCTIONS.map((name) => `${name[0]?.toUpperCase()}${name.slice(1)}LogGroup`).sort(),
    );
    for (const filter of filters) {
      expect(filter.FilterPattern).toBe('{ $.kind = "upstream-rejected-key" }');
      expect(filter.MetricTransformations).toEqual([
        {
          MetricNamespace: 'NgrokEventStreams',
          MetricName: 'UpstreamRejectedKey',
          MetricValue: '1',
        },
      ]);
      expect(resources[filter.LogGroupName.Ref]?.Type).toBe('AWS::Logs::LogGroup');
    }
  });

  it('ships a bundle that loads in Node 24 and answers a request without a token with 401', async () => {
    const { result, lines } = await runBundle('listEventStreams', LIST_EVENT({}), {
      SECRET_ID: 'x',
    });

    expect(result.statusCode).toBe(401);
    expect(result.headers['Content-Type']).toBe('application/problem+json');
    expect(result.headers['x-request-id']).toBe('apigw-request-1');
    expect(lines.filter((line) => line.message === 'request')).toEqual([
      expect.objectContaining({ status: 401, correlation_id: 'apigw-request-1', level: 'INFO' }),
    ]);
  });

  it("names this project's TypeScript files in a logged stack trace, from the map it ships", async () => {
    // A token, then no SECRET_ID: lib/settings.ts throws while loading the secret → 500.
    const event = LIST_EVENT({ authorization: 'Bearer nes_anything-at-all' });

    // As deployed: no NODE_OPTIONS (Node's --enable-source-maps would cost every cold start).
    const mapped = await runBundle('listEventStreams', event, {});
    const unmapped = await runBundle('listEventStreams', event, {}, { withoutSourceMap: true });

    expect(mapped.result.statusCode).toBe(500);
    const errorOf = (run: typeof mapped) =>
      run.lines.find((line) => line.message === 'request')?.error;
    expect(errorOf(mapped).location).toMatch(/^lib\/settings\.ts:\d+$/);
    expect(errorOf(mapped).stack).toMatch(/\(lib\/settings\.ts:\d+:\d+\)/);
    expect(errorOf(mapped).stack).toMatch(/\(lib\/secrets\/service-secret\.ts:\d+:\d+\)/);
    expect(JSON.stringify(errorOf(unmapped))).not.toMatch(/lib\/settings\.ts/);
    expect(errorOf(unmapped).location).toMatch(/listEventStreams\.cjs:\d+$/);
    expect(JSON.stringify(mapped.lines)).not.toContain('nes_anything-at-all');
  });

  it('packages --stage prod with its own secret, log level and retention', () => {
    prod = packageService(work, ['--stage', 'prod']);

    expect(JSON.stringify(grantedPairs(prod).getEventStream)).toContain(
      'secret:ngrok-event-streams-prod-??????',
    );
    for (const env of lambdaEnvironments(prod)) {
      expect(env).toMatchObject({
        SECRET_ID: 'ngrok-event-streams-prod',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
    const groups = Object.values(prod).filter(
      (resource) => resource.Type === 'AWS::Logs::LogGroup',
    );
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(90);
  });

  it('takes a full secret ARN: the IAM resource is that ARN, not a name pattern', () => {
    const custom = packageService(work, [
      '--stage',
      'prod',
      '--param',
      `secretName=${ARN}`,
      '--param',
      'alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:ops',
      '--param',
      'throttleRateLimit=3',
      '--param',
      'throttleBurstLimit=7',
    ]);

    expectPermissionMatrix(custom, 'prod', ARN);
    for (const env of lambdaEnvironments(custom)) expect(env.SECRET_ID).toBe(ARN);
    const alarms = Object.values(custom).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Alarm',
    );
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
    }
    expect(custom.HttpApiStage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 3,
      ThrottlingBurstLimit: 7,
    });
  });

  it('refuses a secret name Secrets Manager would not take', () => {
    const refused = runPackage(work, ['--param', 'secretName=bad name!']);

    expect(refused.status).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toContain(
      "secretName 'bad name!' is not a Secrets Manager secret name",
    );
  });
});

describe('serverless package: the sampling schedule', () => {
  const schedules = (template: Record<string, any>) =>
    Object.fromEntries(
      Object.values(template)
        .filter((resource) => resource.Type === 'AWS::Scheduler::Schedule')
        .map((resource) => [resource.Properties.Name, resource.Properties]),
    );

  it('deploys one schedule per boundary time, in the rule’s zone, with retries and a dead-letter queue', () => {
    const found = schedules(resources);

    expect(Object.keys(found).sort()).toEqual([
      'boundary-Europe.Berlin-0000',
      'boundary-Europe.Berlin-0600',
      'boundary-Europe.Berlin-0800',
      'boundary-Europe.Berlin-2000',
      'boundary-Europe.Berlin-2200',
      // Always there: the backstop of the overrides' one-time schedules.
      'enforce',
    ]);
    expect(JSON.parse(found.enforce.Target.Input)).toMatchObject({ cause: 'enforce', rules: [] });
    expect(found['boundary-Europe.Berlin-0800']).toEqual({
      Name: 'boundary-Europe.Berlin-0800',
      GroupName: { Ref: 'SamplingScheduleGroup' },
      Description: expect.stringContaining('sandbox-example'),
      ScheduleExpression: 'cron(0 8 ? * MON,TUE,WED,THU,FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': ['ApplySamplingScheduleLambdaFunction', 'Arn'] },
        RoleArn: { 'Fn::GetAtt': ['SamplingSchedulerRole', 'Arn'] },
        Input: expect.any(String),
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['SamplingDeadLetterQueue', 'Arn'] } },
      },
    });
    expect(JSON.parse(found['boundary-Europe.Berlin-0800'].Target.Input)).toEqual({
      cause: 'boundary',
      rules: ['sandbox-example'],
      scheduled_time: '<aws.scheduler.scheduled-time>',
      execution_id: '<aws.scheduler.execution-id>',
    });
    expect(found['boundary-Europe.Berlin-0000'].ScheduleExpression).toBe(
      'cron(0 0 ? * MON,SAT,SUN *)',
    );
    expect(resources.SamplingScheduleGroup.Properties.Name).toBe(
      'ngrok-event-streams-dev-sampling',
    );
  });

  it('lets the scheduler’s role invoke the sampling function and send to the queue, nothing else', () => {
    const role = resources.SamplingSchedulerRole.Properties;
    const [trust] = role.AssumeRolePolicyDocument.Statement;

    expect(trust.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(trust.Condition.StringEquals).toEqual({
      'aws:SourceAccount': { Ref: 'AWS::AccountId' },
    });
    expect(JSON.stringify(trust.Condition.ArnEquals)).toContain(
      'schedule-group/ngrok-event-streams-dev-sampling',
    );
    expect(role.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': ['ApplySamplingScheduleLambdaFunction', 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': ['SamplingDeadLetterQueue', 'Arn'] },
      },
    ]);
  });

  it('sends failed runs to the queue after Lambda’s retries, and alarms on the queue’s depth', () => {
    const config = Object.values(resources).find(
      (resource) => resource.Type === 'AWS::Lambda::EventInvokeConfig',
    );

    expect(config.Properties).toMatchObject({
      FunctionName: { Ref: 'ApplySamplingScheduleLambdaFunction' },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': ['SamplingDeadLetterQueue', 'Arn'] } },
      },
    });
    expect(resources.SamplingDeadLetterQueue.Type).toBe('AWS::SQS::Queue');
    expect(resources.SamplingDeadLetterAlarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    expect(resources.ApplySamplingScheduleLambdaFunction.Properties.Timeout).toBe(900);
  });

  it('bundles the policy the schedules came from, and its zone offsets, into the sampling functions', async () => {
    for (const name of ['applySamplingSchedule', 'getSamplingPlan', 'applySampling']) {
      const zip = await JSZip.loadAsync(readFileSync(join(work, '.serverless', `${name}.zip`)));
      const bundle = (await zip.file(`functions/${name}.cjs`)?.async('string')) ?? '';

      expect(bundle).toContain('sandbox-example-batch');
      expect(bundle).toContain('sandbox-example/batch/');
      // Validated at package time: the functions carry no YAML parser.
      expect(bundle).not.toContain('YAMLParseError');
      // Its zone's offsets for the next 24 months, read instead of Intl (lib/sampling/zone.ts).
      const table = /"Europe\/Berlin":\s*\{\s*from:\s*([\d.e]+),\s*until:\s*([\d.e]+),/.exec(
        bundle,
      );
      expect(Number(table?.[1])).toBeLessThan(Date.now() - 300 * 86_400_000);
      expect(Number(table?.[2])).toBeGreaterThan(Date.now() + 700 * 86_400_000);
      // With the time-zone release they came from: a runtime with newer data asks Intl.
      expect(bundle).toContain(`tz:"${process.versions.tz}"`);
    }
  });

  it('keeps the schedules’ names from one package to the next', () => {
    const again = prod ?? packageService(work, ['--stage', 'prod']);

    expect(schedules(again)).toEqual(schedules(resources));
  });

  it('adds one-time schedules where daylight saving skips a boundary, and warns with the dates', () => {
    const file = join(work, 'dst-policy.yml');
    writeFileSync(
      file,
      [
        'timezone: Europe/Berlin',
        'rules:',
        '  - name: dst',
        '    streams: { ids: [es_dst1] }',
        '    default_rate: 1',
        '    enforce: true',
        '    windows:',
        '      - { name: early-sunday, days: [sun], start: "02:30", end: "05:00", rate: 0.5 }',
      ].join('\n'),
    );
    // With a secret name that has a path, checked here too: one package less.
    const run = runPackage(work, [
      '--param',
      `samplingPolicy=${file}`,
      '--param',
      'secretName=team-a/ngrok',
    ]);
    const template = JSON.parse(
      readFileSync(join(work, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
    ).Resources;
    expect(JSON.stringify(grantedPairs(template).slackWorker)).toContain(
      'secret:team-a/ngrok-??????',
    );
    for (const env of lambdaEnvironments(template)) expect(env.SECRET_ID).toBe('team-a/ngrok');
    const found = schedules(template);
    const year = new Date().getUTCFullYear();
    // The last Sundays of March in the next 24 months (2027-03-28, 2028-03-26 from late 2026).
    const gaps = Object.values(found).filter((schedule: any) => schedule.Name.startsWith('gap-'));

    expect(run.status).toBe(0);
    expect(found['boundary-Europe.Berlin-0230'].ScheduleExpression).toBe('cron(30 2 ? * SUN *)');
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    for (const gap of gaps as any[]) {
      expect(gap.ScheduleExpression).toMatch(/^at\(\d{4}-03-\d{2}T03:00:00\)$/);
      expect(gap.ScheduleExpressionTimezone).toBe('Europe/Berlin');
      expect(JSON.parse(gap.Target.Input)).toMatchObject({ cause: 'boundary', rules: ['dst'] });
      const date = /at\((\d{4}-\d{2}-\d{2})/.exec(gap.ScheduleExpression)?.[1] as string;
      expect(new Date(`${date}T00:00:00Z`).getUTCDay()).toBe(0);
      expect(Number(date.slice(0, 4))).toBeLessThanOrEqual(year + 2);
      expect(`${run.stdout}${run.stderr}`).toContain(`does not exist on ${date}`);
    }
    expect(found.enforce).toMatchObject({ ScheduleExpression: 'rate(15 minutes)' });
    expect(JSON.parse(found.enforce.Target.Input)).toMatchObject({
      cause: 'enforce',
      rules: ['dst'],
    });
  });

  it('fails on an invalid policy, with the validation message', () => {
    const file = join(work, 'bad-policy.yml');
    writeFileSync(
      file,
      'timezone: Europe/Berlin\nrules:\n  - name: bad\n    streams: { ids: [es_x1] }\n    default_rate: 2\n',
    );

    const run = runPackage(work, ['--param', `samplingPolicy=${file}`]);

    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain(
      `${file}:5:19: rules[0] 'bad' › default_rate: must be at most 1`,
    );
  });
});

describe('serverless package: Idempotency-Key', () => {
  it("keeps the create's keys in a table of their own that forgets them after a day (TTL), named only to the create", () => {
    expect(resources.IdempotencyKeysTable).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'ngrok-event-streams-dev-idempotency-keys',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      },
    });
    const withTable = ofType('AWS::Lambda::Function').filter(
      ([, fn]) => 'IDEMPOTENCY_KEYS_TABLE' in fn.Properties.Environment.Variables,
    );
    expect(withTable.map(([id]) => id)).toEqual(['CreateEventStreamLambdaFunction']);
    expect(withTable[0]?.[1].Properties.Environment.Variables).toMatchObject({
      IDEMPOTENCY_KEYS_TABLE: 'ngrok-event-streams-dev-idempotency-keys',
      IDEMPOTENCY_SETTLE_SECONDS: '30',
    });
  });
});

describe('serverless package: sampling overrides', () => {
  it('keeps them in a table keyed by stream and key, which removes ended ones after a week (TTL)', () => {
    expect(resources.SamplingOverridesTable).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'ngrok-event-streams-dev-sampling-overrides',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'stream_id', KeyType: 'HASH' },
          { AttributeName: 'key', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'remove_after', Enabled: true },
      },
    });
  });

  it('names to the functions the table and the schedules’ group, function, role and queue as deployed', () => {
    const setter = resources.SetSamplingOverrideLambdaFunction.Properties.Environment.Variables;
    expect(setter).toMatchObject({
      OVERRIDES_TABLE: resources.SamplingOverridesTable.Properties.TableName,
      SAMPLING_OVERRIDE_MAX_HOURS: '24',
      SAMPLING_SCHEDULE_GROUP: resources.SamplingScheduleGroup.Properties.Name,
      SAMPLING_FUNCTION: resources.ApplySamplingScheduleLambdaFunction.Properties.FunctionName,
      SAMPLING_SCHEDULER_ROLE: resources.SamplingSchedulerRole.Properties.RoleName,
      SAMPLING_DEAD_LETTER_QUEUE: resources.SamplingDeadLetterQueue.Properties.QueueName,
    });
  });

  it('lets a function pass the scheduler’s role to EventBridge Scheduler only', () => {
    const statements = resources.SetSamplingOverrideRole.Properties.Policies.flatMap(
      (policy: any) => policy.PolicyDocument.Statement,
    );
    expect(statements.find((statement: any) => statement.Action.includes('iam:PassRole'))).toEqual({
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: { 'Fn::GetAtt': ['SamplingSchedulerRole', 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
  });
});

describe('serverless package: the Slack command', () => {
  it('keeps the worker’s idempotency records in one table that forgets them (TTL)', () => {
    expect(resources.SlackIdempotencyTable).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'ngrok-event-streams-dev-slack-idempotency',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      },
    });
  });

  it('retries the worker, which takes longer than the command’s 10 s', () => {
    const worker = resources.SlackWorkerLambdaFunction.Properties;
    const config = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::Lambda::EventInvokeConfig' &&
        resource.Properties.FunctionName.Ref === 'SlackWorkerLambdaFunction',
    );

    expect(worker.Timeout).toBe(300);
    expect(resources.SlackCommandLambdaFunction.Properties.Timeout).toBe(10);
    expect(config.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 1800,
    });
  });
});
