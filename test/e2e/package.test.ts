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

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const FUNCTIONS = [
  'createEventStream',
  'listEventStreams',
  'getEventStream',
  'updateEventStream',
  'deleteEventStream',
];
const ROUTES = [
  'POST /event-streams',
  'GET /event-streams',
  'GET /event-streams/{id}',
  'PATCH /event-streams/{id}',
  'DELETE /event-streams/{id}',
];

let work: string;
let resources: Record<string, any>;

function packageService(dir: string, params: string[] = []) {
  const run = spawnSync(
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

describe('serverless package', () => {
  it("makes one zip per function, each holding only that function's bundle", async () => {
    const zips = readdirSync(join(work, '.serverless')).filter((file) => file.endsWith('.zip'));

    expect(zips.sort()).toEqual(FUNCTIONS.map((name) => `${name}.zip`).sort());
    for (const name of FUNCTIONS) {
      const zip = await JSZip.loadAsync(readFileSync(join(work, '.serverless', `${name}.zip`)));
      const files = Object.keys(zip.files).filter((file) => !zip.files[file]?.dir);
      expect(files).toEqual([`functions/${name}.cjs`]);

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
    }
  });

  it('declares the five HTTP API routes, each on its own function', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties.RouteKey);
    const functions = ofType('AWS::Lambda::Function').map(([, fn]) => fn.Properties);

    expect(routes.sort()).toEqual([...ROUTES].sort());
    expect(functions.map((fn) => fn.Handler).sort()).toEqual(
      FUNCTIONS.map((name) => `functions/${name}.handler`).sort(),
    );
    for (const fn of functions) {
      expect(fn.Runtime).toBe('nodejs24.x');
      expect(fn.Architectures).toEqual(['arm64']);
      expect(fn.Environment.Variables).toMatchObject({
        SECRET_ID: 'ngrok-event-streams',
        NGROK_API_URL: 'https://api.ngrok.com',
      });
    }
  });

  it('grants GetSecretValue on the one secret and nothing broader', () => {
    const [[, role]] = ofType('AWS::IAM::Role') as [[string, any]];
    const statements = role.Properties.Policies.flatMap(
      (policy: any) => policy.PolicyDocument.Statement,
    );
    const nonLogs = statements.filter(
      (statement: any) => !statement.Action.every((action: string) => action.startsWith('logs:')),
    );

    expect(nonLogs).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: {
          'Fn::Sub':
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
            'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:ngrok-event-streams-??????',
        },
      },
    ]);
    for (const statement of statements) {
      expect(statement.Action).not.toContain('*');
      expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
    }
  });

  it("sets a log retention on every function's log group", () => {
    const groups = ofType('AWS::Logs::LogGroup');

    expect(groups).toHaveLength(FUNCTIONS.length);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('ships a bundle that loads in Node 24 and answers a request without a token with 401', async () => {
    const zip = await JSZip.loadAsync(
      readFileSync(join(work, '.serverless', 'listEventStreams.zip')),
    );
    const file = join(work, 'listEventStreams.cjs');
    writeFileSync(file, (await zip.file('functions/listEventStreams.cjs')?.async('string')) ?? '');
    const script = `
      const { handler } = require(${JSON.stringify(file)});
      handler({ version: '2.0', routeKey: 'GET /event-streams', rawPath: '/event-streams', headers: {},
                requestContext: { http: { method: 'GET' }, stage: '$default', domainName: 'x' } },
              { getRemainingTimeInMillis: () => 3000, awsRequestId: 'r' })
        .then((result) => process.stdout.write(JSON.stringify(result)));`;

    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, SECRET_ID: 'x' },
    });
    const result = JSON.parse(run.stdout.slice(run.stdout.indexOf('{"statusCode"')));

    expect(result.statusCode).toBe(401);
    expect(result.headers['Content-Type']).toBe('application/problem+json');
  });

  it('takes the secret name as a parameter, into the environment and the IAM resource', () => {
    const custom = packageService(work, ['--param', 'secretName=team-a/ngrok']);
    const role = Object.values(custom).find((resource) => resource.Type === 'AWS::IAM::Role');
    const fn = Object.values(custom).find((resource) => resource.Type === 'AWS::Lambda::Function');

    expect(JSON.stringify(role)).toContain('secret:team-a/ngrok-??????');
    expect(fn.Properties.Environment.Variables.SECRET_ID).toBe('team-a/ngrok');
  });
});
