// biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation JSON and the runners' reports, read field by field
/**
 * `npm run bench`: how fast and how small the functions are, against a floor and a peer, in one
 * run on this machine. It packages the functions for real (`serverless package`), bundles the
 * baselines in bench/subjects/ the same way, starts a sandbox per subject, and measures:
 *
 * - size: each function's zip and bundle, vs the peer's bundle;
 * - import: a fresh process `require`s the bundle, vs an empty middy handler;
 * - cold: a fresh process, one real invocation (its answer checked), spawn → answer, vs the
 *   floor (the same two exchanges with node:http) and the peer (@ngrok/ngrok-api + middy);
 * - warm: invocations in a warm process, median and p99, vs a bare undici `request()` and the peer;
 * - GetSecretValue calls: in a warm container (its first invocation and BENCH_WARM_ROUNDS x
 *   BENCH_WARM_BATCH more), and for 100 concurrent first invocations in one fresh container;
 * - peak memory (max RSS) of the warm process.
 *
 * Every comparison is a ratio of medians measured in this run, rounds interleaved in a new
 * random order each round. Prints a table and one JSON line (also written to .bench/results.json).
 * Nothing here asserts a time: benchmarks are not tests.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type BuildOptions, build } from 'esbuild';
import JSZip from 'jszip';
import { parse } from 'yaml';
import { newCallerToken, sha256Hex } from '../lib/auth/tokens.ts';
import { boundariesBetween, ruleNamed } from '../lib/sampling/evaluate.ts';
import { loadPolicyFile } from '../lib/sampling/load.ts';
import { DAY_MS, wallOf } from '../lib/sampling/zone.ts';
import { type Sandbox, sampleDestinations, startSandbox } from '../sandbox/server.ts';
import { localAwsEnv } from '../scripts/local-stack.ts';
import { summarizeProfile } from './profile.ts';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, '.bench');
const COLD_ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 15);
const WARM_ROUNDS = Number(process.env.BENCH_WARM_ROUNDS ?? 40);
const WARM_BATCH = Number(process.env.BENCH_WARM_BATCH ?? 50);
const CONCURRENCY = 100;
const SLACK_BUDGET_MS = 3000;
const SECRET_ID = 'ngrok-event-streams-bench';

/** BENCH_ONLY=getEventStream,slackCommand: measure these functions alone (and the baselines). */
const ONLY = process.env.BENCH_ONLY?.split(',').filter(Boolean);

/** What a successful invocation answers. */
const EXPECTED: Record<string, number | 'ok'> = {
  createEventStream: 201,
  deleteEventStream: 204,
  // The bench stream has no override to end: the lookup and the answer are what is measured.
  endSamplingOverride: 404,
  applySamplingSchedule: 'ok',
  slackWorker: 'ok',
};
const BASELINES = ['peer', 'floor', 'emptyMiddy', 'bareUndici'] as const;
const BASELINE_FILES: Record<(typeof BASELINES)[number], string> = {
  peer: 'peer.ts',
  floor: 'floor.ts',
  emptyMiddy: 'empty-middy.ts',
  bareUndici: 'bare-undici.ts',
};

interface Subject {
  name: string;
  bundle: string;
  /** Which event the runner makes (bench/runner.mjs EVENTS). */
  event: string;
  env: NodeJS.ProcessEnv;
  sandbox: Sandbox;
  fixture: Record<string, unknown>;
  zipBytes?: number;
  bundleBytes: number;
}

const log = (text: string) => process.stderr.write(`${text}\n`);
const median = (values: number[]) => quantile(values, 0.5);
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (
    (sorted[low] as number) +
    ((sorted[high] as number) - (sorted[low] as number)) * (position - low)
  );
}
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** `serverless package` as a deploy runs it; returns the template's resources. */
function packageFunctions(): Record<string, { Type: string; Properties: Record<string, any> }> {
  const out = join(WORK, 'package');
  rmSync(out, { recursive: true, force: true });
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'),
      'package',
      '--stage',
      'prod',
      '--package',
      out,
      '--param',
      `esbuildWorkFolder=${join('.bench', 'esbuild')}`,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
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
    readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  return template.Resources;
}

/** Unzips a function's package; returns the zip's size and its bundle's path and size. */
async function extract(
  name: string,
): Promise<{ zipBytes: number; bundle: string; bundleBytes: number }> {
  const zipPath = join(WORK, 'package', `${name}.zip`);
  const zip = await JSZip.loadAsync(readFileSync(zipPath));
  const dir = join(WORK, 'functions', name);
  rmSync(dir, { recursive: true, force: true });
  for (const [path, entry] of Object.entries(zip.files)) {
    if (entry.dir) continue;
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await entry.async('nodebuffer'));
  }
  const bundle = join(dir, 'functions', `${name}.cjs`);
  return { zipBytes: statSync(zipPath).size, bundle, bundleBytes: statSync(bundle).size };
}

/**
 * How the baselines are bundled: the functions' esbuild settings (serverless.yml custom.esbuild:
 * minified, source maps, Node 24, CommonJS), without the three that are this project's own size
 * work (module-first main fields, the credential chain alias, undici's bundler switch) — the
 * peer is bundled as its authors would, the empty handler as any.
 */
function baselineBuildOptions(): BuildOptions {
  const config = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' })
    .custom.esbuild;
  return {
    bundle: true,
    minify: config.minify,
    sourcemap: config.sourcemap,
    sourcesContent: config.sourcesContent,
    target: config.target,
    platform: config.platform,
    format: config.format,
    logLevel: 'error',
  };
}

async function buildBaseline(
  name: (typeof BASELINES)[number],
): Promise<{ bundle: string; bundleBytes: number }> {
  const bundle = join(WORK, 'baselines', name, 'index.cjs');
  await build({
    ...baselineBuildOptions(),
    entryPoints: [join(ROOT, 'bench', 'subjects', BASELINE_FILES[name])],
    outfile: bundle,
  });
  return { bundle, bundleBytes: statSync(bundle).size };
}

/**
 * The last boundary of the shipped schedule's first rule (`sandbox-example`) before now: the
 * event EventBridge Scheduler sent for it, which the boundary function acts on.
 */
function lastBoundary(): string {
  const rule = ruleNamed(loadPolicyFile(join(ROOT, 'sampling-schedule.yml')), 'sandbox-example');
  if (!rule) throw new Error('sampling-schedule.yml has no rule sandbox-example');
  const now = Date.now();
  const boundaries = boundariesBetween(
    rule,
    wallOf(now - 8 * DAY_MS, rule.timezone),
    wallOf(now + DAY_MS, rule.timezone),
  ).filter((boundary) => boundary.at <= now);
  const last = boundaries.at(-1);
  if (!last) throw new Error('no boundary of sandbox-example in the last week');
  return new Date(last.at).toISOString();
}

/** Streams the shipped sampling schedule governs (its rule `sandbox-example`), in each sandbox. */
const GOVERNED_STREAMS = 10;

/** What the functions' DynamoDB tables and schedule group are named, as packaged. */
interface Tables {
  idempotency: string;
  overrides: string;
  scheduleGroup: string;
}

/**
 * A sandbox of the subject's own (its requests counted apart): the sample destinations, one
 * stream, streams the sampling schedule governs, for the delete function a pool of streams to
 * delete, and the service's secret with a caller and Slack settings.
 */
async function subjectSandbox(tables: Tables, deletes: number) {
  const sandbox = await startSandbox({
    rateLimit: false,
    tables: { [tables.idempotency]: ['id'], [tables.overrides]: ['stream_id', 'key'] },
    scheduler: { tickMs: false, groups: [tables.scheduleGroup] },
  });
  const destinationIds = sampleDestinations().map(
    (destination) => sandbox.state.createDestination(destination).id,
  );
  const streamFor = (description: string) =>
    sandbox.state.createStream({
      description,
      event_type: 'http_request_complete',
      fields: ['http.request.method', 'http.response.status_code'],
      destination_ids: [destinationIds[0]],
      sampling_rate: 1,
    }).id;
  const streamId = streamFor('bench stream');
  for (let i = 0; i < GOVERNED_STREAMS; i++) streamFor(`sandbox-example/bench ${i}`);
  const deleteIds = Array.from({ length: deletes }, (_, i) => streamFor(`to delete ${i}`));
  const token = newCallerToken();
  const alertsToken = newCallerToken();
  const pagerdutySecret = newCallerToken();
  const slack = { signing_secret: newCallerToken(), team_id: 'T0000BENCH', user_id: 'U0000BENCH' };
  sandbox.secrets.put(
    SECRET_ID,
    JSON.stringify({
      ngrok_api_key: sandbox.apiKey,
      callers: [
        { name: 'bench', token_sha256: sha256Hex(token), scopes: ['read', 'write'] },
        { name: 'bench-alerts', token_sha256: sha256Hex(alertsToken), scopes: ['alerts'] },
      ],
      pagerduty: { webhook_secrets: [pagerdutySecret] },
      slack: {
        signing_secret: slack.signing_secret,
        team_ids: [slack.team_id],
        allowed_user_ids: [slack.user_id],
      },
    }),
  );
  const fixture = {
    token,
    alertsToken,
    pagerdutySecret,
    streamId,
    destinationId: destinationIds[0],
    deleteIds,
    slack,
    sandboxUrl: sandbox.url,
    scheduledTime: lastBoundary(),
  };
  return { sandbox, fixture };
}

function subjectEnv(
  sandbox: Sandbox,
  functionEnv: Record<string, unknown>,
  name: string,
): NodeJS.ProcessEnv {
  const fromTemplate = Object.fromEntries(
    Object.entries(functionEnv).filter(([, value]) => typeof value === 'string'),
  ) as Record<string, string>;
  return {
    PATH: process.env.PATH,
    // Under `npm test`, the run's marker: its check after the run finds a runner left running.
    NGROK_ES_TEST_RUN: process.env.NGROK_ES_TEST_RUN,
    ...fromTemplate,
    ...localAwsEnv(sandbox.url, sandbox.awsCredentials, sandbox.url),
    SECRET_ID,
    NGROK_API_URL: sandbox.url,
    // The bench's runs are not paced like a real sampling run (60 requests a minute).
    SAMPLING_REQUESTS_PER_MINUTE: '1000000',
    SLACK_RESPONSE_URL_PREFIXES: `${sandbox.url}/_sandbox/slack/response/`,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    BENCH_NGROK_API_KEY: sandbox.apiKey,
  };
}

function spawnRunner(
  subject: Subject,
  mode: string,
  extra: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, join(ROOT, 'bench', 'runner.mjs')], {
    env: {
      ...subject.env,
      BENCH_MODE: mode,
      BENCH_BUNDLE: subject.bundle,
      BENCH_EVENT: subject.event,
      BENCH_FIXTURE: JSON.stringify(subject.fixture),
      ...extra,
    },
    stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
  });
}

/** The JSON lines a runner reports on its file descriptor 3. */
function reports(child: ChildProcess): AsyncIterator<Record<string, any>> {
  const lines = createInterface({ input: child.stdio[3] as Readable })[Symbol.asyncIterator]();
  return {
    next: async () => {
      const line = await lines.next();
      return line.done ? line : { done: false, value: JSON.parse(line.value) };
    },
  };
}

async function runOnce(
  subject: Subject,
  mode: string,
  extra: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
) {
  const spawned = performance.now();
  const child = spawnRunner(subject, mode, extra, nodeArgs);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const line = await reports(child).next();
  const answeredMs = performance.now() - spawned;
  await new Promise((resolve) => child.once('exit', resolve).exitCode !== null && resolve(null));
  if (line.done) throw new Error(`${subject.name} (${mode}) reported nothing:\n${stderr}`);
  return { answeredMs, report: line.value };
}

function check(subject: Subject, status: unknown, what: string) {
  const expected = EXPECTED[subject.event] ?? 200;
  if (status !== expected) {
    throw new Error(`${subject.name} ${what}: answered ${JSON.stringify(status)}, not ${expected}`);
  }
}

const secretReads = (sandbox: Sandbox) =>
  sandbox.requests.filter((request) => request.api === 'secretsmanager').length;

async function main() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  log('Packaging the functions (serverless package --stage prod)…');
  const resources = packageFunctions();
  const lambdas = Object.values(resources).filter((each) => each.Type === 'AWS::Lambda::Function');
  // Every function the package holds (its handler is functions/<name>.handler), in its order.
  const measured = lambdas
    .map((each) => /^functions\/(\w+)\.handler$/.exec(String(each.Properties.Handler))?.[1] ?? '')
    .filter((name) => name !== '' && (ONLY === undefined || ONLY.includes(name)));
  const envOf = (name: string) => {
    const found = lambdas.find((each) =>
      String(each.Properties.Handler).startsWith(`functions/${name}.`),
    );
    if (!found) throw new Error(`no function ${name} in the package`);
    return (found.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
  };
  const tables: Tables = {
    idempotency: String(envOf('slackWorker').IDEMPOTENCY_TABLE),
    overrides: String(envOf('getSamplingPlan').OVERRIDES_TABLE),
    scheduleGroup: String(envOf('getSamplingPlan').SAMPLING_SCHEDULE_GROUP),
  };

  log('Bundling the baselines (bench/subjects) as the functions are bundled…');
  const subjects: Subject[] = [];
  for (const name of measured) {
    const deletes =
      name === 'deleteEventStream'
        ? COLD_ROUNDS + 1 + CONCURRENCY + WARM_ROUNDS * WARM_BATCH + 1
        : 0;
    const { sandbox, fixture } = await subjectSandbox(tables, deletes);
    const built = await extract(name);
    subjects.push({
      name,
      event: name,
      env: subjectEnv(sandbox, envOf(name), name),
      sandbox,
      fixture,
      ...built,
    });
  }
  for (const name of BASELINES) {
    const { sandbox, fixture } = await subjectSandbox(tables, 0);
    const built = await buildBaseline(name);
    // The baselines get the get function's environment.
    subjects.push({
      name,
      event: 'getEventStream',
      env: subjectEnv(sandbox, envOf('getEventStream'), name),
      sandbox,
      fixture,
      ...built,
    });
  }
  const byName = (name: string) => subjects.find((each) => each.name === name) as Subject;
  const isMeasured = (name: string) => subjects.some((each) => each.name === name);
  const functions = measured.map(byName);
  const peer = byName('peer');

  // Cold: fresh processes, rounds interleaved. The empty middy handler gives import's baseline.
  const coldSubjects = [...functions, peer, byName('floor'), byName('emptyMiddy')];
  const slackCold = isMeasured('slackCommand')
    ? { ...byName('slackCommand'), name: 'slackCommand (help, get)' }
    : undefined;
  const cold = new Map<
    string,
    { answered: number[]; imports: number[]; starts: number[]; invocations: number[] }
  >();
  const slackAnswers: { help: number[]; get: number[] } = { help: [], get: [] };
  for (let round = 1; round <= COLD_ROUNDS; round++) {
    log(`Cold round ${round}/${COLD_ROUNDS}`);
    for (const subject of shuffled(slackCold ? [...coldSubjects, slackCold] : coldSubjects)) {
      const extra: NodeJS.ProcessEnv = { BENCH_DELETE_OFFSET: String(round - 1) };
      if (subject === slackCold) extra.BENCH_SEQUENCE = 'slackHelp,slackCommand';
      const { answeredMs, report } = await runOnce(subject, 'cold', extra);
      const answers = report.answers as { event: string; status: unknown; at_ms: number }[];
      for (const answer of answers)
        check(
          { ...subject, event: answer.event === 'slackHelp' ? 'slackCommand' : subject.event },
          answer.status,
          'cold',
        );
      if (subject === slackCold) {
        slackAnswers.help.push(answers[0]?.at_ms as number);
        slackAnswers.get.push(answers[1]?.at_ms as number);
        continue;
      }
      const entry = cold.get(subject.name) ?? {
        answered: [],
        imports: [],
        starts: [],
        invocations: [],
      };
      if (subject.name !== 'emptyMiddy') entry.answered.push(answeredMs);
      entry.imports.push(report.import_ms);
      // Where the cold invocation went: Node.js starting, the import, the first invocation.
      entry.starts.push(report.started_ms);
      entry.invocations.push((answers[0]?.at_ms as number) - report.started_ms - report.import_ms);
      cold.set(subject.name, entry);
    }
  }

  // BENCH_PROFILE=1: one more cold invocation of each, under V8's CPU profiler.
  const profiles: { name: string; parts: ReturnType<typeof summarizeProfile> }[] = [];
  if (process.env.BENCH_PROFILE) {
    for (const subject of [...functions, peer]) {
      log(`Profiling a cold invocation: ${subject.name}`);
      const dir = join(WORK, 'profiles', subject.name);
      const { report } = await runOnce(
        subject,
        'cold',
        { BENCH_DELETE_OFFSET: String(COLD_ROUNDS) },
        ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'],
      );
      const file = readdirSync(dir).find((each) => each.endsWith('.cpuprofile'));
      // Where the import ended, for a closer look at the profile (e.g. in Chrome's DevTools).
      writeFileSync(join(dir, 'import-end-us.txt'), `${report.import_end_us}\n`);
      profiles.push({
        name: subject.name,
        parts: summarizeProfile(join(dir, file as string), subject.bundle, report.import_end_us),
      });
    }
  }

  // 100 concurrent first invocations in one fresh container: GetSecretValue calls.
  const concurrentReads = new Map<string, number>();
  for (const subject of shuffled([...functions, peer])) {
    log(`Concurrent first invocations: ${subject.name}`);
    const before = secretReads(subject.sandbox);
    const { report } = await runOnce(subject, 'concurrent', {
      BENCH_CONCURRENCY: String(CONCURRENCY),
      BENCH_DELETE_OFFSET: String(COLD_ROUNDS + 1),
    });
    for (const status of report.statuses) check(subject, status, 'concurrent');
    concurrentReads.set(subject.name, secretReads(subject.sandbox) - before);
  }

  // Warm: one long-lived process per subject, batches interleaved round by round.
  const warmSubjects = [...functions, peer, byName('bareUndici')];
  const warm = new Map<
    string,
    { durations: number[]; reads: number; maxRssKiB: number; seconds: number }
  >();
  const runners = new Map<
    string,
    {
      child: ChildProcess;
      lines: AsyncIterator<Record<string, any>>;
      readsBefore: number;
      started: number;
    }
  >();
  for (const subject of warmSubjects) {
    const readsBefore = secretReads(subject.sandbox);
    const child = spawnRunner(subject, 'warm', {
      BENCH_DELETE_OFFSET: String(COLD_ROUNDS + 1 + CONCURRENCY),
    });
    const lines = reports(child);
    const ready = await lines.next();
    if (ready.done) throw new Error(`${subject.name} did not start warm`);
    check(subject, ready.value.status, 'warm (first)');
    runners.set(subject.name, { child, lines, readsBefore, started: performance.now() });
    warm.set(subject.name, { durations: [], reads: 0, maxRssKiB: 0, seconds: 0 });
  }
  for (let round = 1; round <= WARM_ROUNDS; round++) {
    if (round % 10 === 1) log(`Warm round ${round}/${WARM_ROUNDS}`);
    for (const subject of shuffled(warmSubjects)) {
      const runner = runners.get(subject.name);
      if (!runner) continue;
      runner.child.stdin?.write(`${JSON.stringify({ n: WARM_BATCH })}\n`);
      const batch = await runner.lines.next();
      if (batch.done) throw new Error(`${subject.name} stopped while warm`);
      for (const [status, count] of Object.entries(
        batch.value.statuses as Record<string, number>,
      )) {
        check(subject, /^\d+$/.test(status) ? Number(status) : status, `warm (${count}x)`);
      }
      warm.get(subject.name)?.durations.push(...(batch.value.durations as number[]));
    }
  }
  for (const subject of warmSubjects) {
    const runner = runners.get(subject.name);
    const entry = warm.get(subject.name);
    if (!runner || !entry) continue;
    runner.child.stdin?.write(`${JSON.stringify({ stop: true })}\n`);
    const last = await runner.lines.next();
    entry.maxRssKiB = last.done ? Number.NaN : last.value.max_rss_kib;
    entry.reads = secretReads(subject.sandbox) - runner.readsBefore;
    entry.seconds = (performance.now() - runner.started) / 1000;
  }
  // BENCH_PROFILE=1: warm invocations of the get function, the peer and bare undici, profiled.
  const warmProfiles: { name: string; perInvocation: [string, number][] }[] = [];
  if (process.env.BENCH_PROFILE) {
    const invocations = 1000;
    const profiled = isMeasured('getEventStream') ? byName('getEventStream') : functions[0];
    for (const subject of [...(profiled ? [profiled] : []), peer, byName('bareUndici')]) {
      log(`Profiling warm invocations: ${subject.name}`);
      const dir = join(WORK, 'profiles', `${subject.name}-warm`);
      const child = spawnRunner(subject, 'warm', {}, [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        '--cpu-prof-interval=50',
      ]);
      const lines = reports(child);
      const ready = await lines.next();
      child.stdin?.write(`${JSON.stringify({ n: invocations })}\n`);
      await lines.next();
      child.stdin?.write(`${JSON.stringify({ stop: true })}\n`);
      await lines.next();
      await new Promise((resolve) => child.once('exit', resolve));
      const file = readdirSync(dir).find((each) => each.endsWith('.cpuprofile'));
      const { invocation } = summarizeProfile(
        join(dir, file as string),
        subject.bundle,
        ready.value.ready_us,
      );
      warmProfiles.push({
        name: subject.name,
        perInvocation: invocation.map(([category, ms]) => [category, (ms * 1000) / invocations]),
      });
    }
  }
  for (const subject of subjects) await subject.sandbox.close();

  // The figures, and the ratios of this run.
  const coldMedian = (name: string) => median(cold.get(name)?.answered ?? []);
  const coldParts = (name: string) => ({
    node_start: median(cold.get(name)?.starts ?? []),
    import: median(cold.get(name)?.imports ?? []),
    first_invocation: median(cold.get(name)?.invocations ?? []),
  });
  const importMedian = (name: string) => median(cold.get(name)?.imports ?? []);
  const warmMedian = (name: string) => median(warm.get(name)?.durations ?? []);
  const results = {
    machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
    runs: {
      cold_rounds: COLD_ROUNDS,
      warm_invocations: WARM_ROUNDS * WARM_BATCH,
      concurrency: CONCURRENCY,
    },
    baselines: {
      peer: {
        bundle_kib: peer.bundleBytes / 1024,
        import_ms: importMedian('peer'),
        cold_ms: coldMedian('peer'),
        cold_parts_ms: coldParts('peer'),
        warm_median_ms: warmMedian('peer'),
        warm_p99_ms: quantile(warm.get('peer')?.durations ?? [], 0.99),
        secret_reads_warm: warm.get('peer')?.reads,
        secret_reads_concurrent: concurrentReads.get('peer'),
        max_rss_mib: (warm.get('peer')?.maxRssKiB ?? Number.NaN) / 1024,
      },
      floor: {
        bundle_kib: byName('floor').bundleBytes / 1024,
        cold_ms: coldMedian('floor'),
        cold_parts_ms: coldParts('floor'),
        import_ms: importMedian('floor'),
      },
      empty_middy: {
        bundle_kib: byName('emptyMiddy').bundleBytes / 1024,
        import_ms: importMedian('emptyMiddy'),
      },
      bare_undici: {
        warm_median_ms: warmMedian('bareUndici'),
        warm_p99_ms: quantile(warm.get('bareUndici')?.durations ?? [], 0.99),
      },
    },
    functions: functions.map((subject) => {
      const w = warm.get(subject.name);
      return {
        name: subject.name,
        zip_kib: (subject.zipBytes ?? 0) / 1024,
        bundle_kib: subject.bundleBytes / 1024,
        bundle_x_peer: subject.bundleBytes / peer.bundleBytes,
        import_ms: importMedian(subject.name),
        import_x_empty_middy: importMedian(subject.name) / importMedian('emptyMiddy'),
        cold_ms: coldMedian(subject.name),
        cold_parts_ms: coldParts(subject.name),
        cold_x_peer: coldMedian(subject.name) / coldMedian('peer'),
        cold_x_floor: coldMedian(subject.name) / coldMedian('floor'),
        warm_median_ms: warmMedian(subject.name),
        warm_p99_ms: quantile(w?.durations ?? [], 0.99),
        warm_x_bare_undici: warmMedian(subject.name) / warmMedian('bareUndici'),
        warm_x_peer: warmMedian(subject.name) / warmMedian('peer'),
        secret_reads_warm: w?.reads,
        warm_seconds: w?.seconds,
        secret_reads_concurrent: concurrentReads.get(subject.name),
        max_rss_mib: (w?.maxRssKiB ?? Number.NaN) / 1024,
      };
    }),
    slack_cold_answer: {
      help_ms: median(slackAnswers.help),
      get_ms: median(slackAnswers.get),
      budget_ms: SLACK_BUDGET_MS,
    },
  };
  writeFileSync(join(WORK, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(table(results));
  const describe = (breakdown: [string, number][]) => {
    const total = breakdown.reduce((sum, [, ms]) => sum + ms, 0);
    const top = breakdown
      .slice(0, 7)
      .map(([category, ms]) => `${category} ${ms.toFixed(0)}`)
      .join(', ');
    return `${total.toFixed(0)} ms: ${top}`;
  };
  for (const { name, perInvocation } of warmProfiles) {
    const top = perInvocation
      .slice(0, 10)
      .map(([category, us]) => `${category} ${us.toFixed(0)}`)
      .join(', ');
    console.log(`Warm profile of ${name}, µs per invocation: ${top}`);
  }
  for (const { name, parts } of profiles) {
    console.log(`Cold profile of ${name}, to the end of the import (${describe(parts.import)})`);
    console.log(`  and the first invocation (${describe(parts.invocation)})`);
  }
  console.log(JSON.stringify(results));
}

type Results = {
  baselines: Record<string, Record<string, unknown>>;
  functions: Record<string, unknown>[];
  slack_cold_answer: Record<string, number>;
  runs: Record<string, number>;
};

type Row = Record<string, unknown>;

/** The table's columns: a title, a field of a row, and how it is shown. */
const COLUMNS: [title: string, field: string, show: 'int' | 'ms1' | 'ms2' | 'ratio'][] = [
  ['zip KiB', 'zip_kib', 'int'],
  ['bundle KiB', 'bundle_kib', 'int'],
  ['× peer', 'bundle_x_peer', 'ratio'],
  ['import ms', 'import_ms', 'ms1'],
  ['× empty middy', 'import_x_empty_middy', 'ratio'],
  ['cold ms', 'cold_ms', 'int'],
  ['× peer', 'cold_x_peer', 'ratio'],
  ['× floor', 'cold_x_floor', 'ratio'],
  ['warm p50 ms', 'warm_median_ms', 'ms2'],
  ['warm p99 ms', 'warm_p99_ms', 'ms2'],
  ['× undici', 'warm_x_bare_undici', 'ratio'],
  ['× peer', 'warm_x_peer', 'ratio'],
  ['reads warm', 'secret_reads_warm', 'int'],
  ['reads 100 conc.', 'secret_reads_concurrent', 'int'],
  ['RSS MiB', 'max_rss_mib', 'int'],
];

/** The baselines as rows of the table, with their ratios to each other. */
function baselineRows(baselines: Results['baselines']): Row[] {
  const {
    peer = {},
    floor = {},
    empty_middy = {},
    bare_undici = {},
  } = baselines as Record<string, Record<string, number>>;
  return [
    {
      ...peer,
      name: 'peer (@ngrok/ngrok-api)',
      bundle_x_peer: 1,
      import_x_empty_middy: (peer.import_ms ?? 0) / (empty_middy.import_ms ?? 0),
      cold_x_peer: 1,
      cold_x_floor: (peer.cold_ms ?? 0) / (floor.cold_ms ?? 0),
      warm_x_bare_undici: (peer.warm_median_ms ?? 0) / (bare_undici.warm_median_ms ?? 0),
      warm_x_peer: 1,
    },
    {
      ...floor,
      name: 'floor (node:http)',
      cold_x_peer: (floor.cold_ms ?? 0) / (peer.cold_ms ?? 0),
      cold_x_floor: 1,
    },
    { ...empty_middy, name: 'empty middy handler', import_x_empty_middy: 1 },
    { ...bare_undici, name: 'bare undici request()', warm_x_bare_undici: 1 },
  ];
}

function table(results: Results): string {
  const show = (value: unknown, how: (typeof COLUMNS)[number][2]) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
    if (how === 'ratio') return `${value.toFixed(2)}×`;
    return value.toFixed(how === 'ms1' ? 1 : how === 'ms2' ? 2 : 0);
  };
  const header = ['function', ...COLUMNS.map(([title]) => title)];
  const rows = [...results.functions, ...baselineRows(results.baselines)].map((row) => [
    String(row.name),
    ...COLUMNS.map(([, field, how]) => show(row[field], how)),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join(' | ')} |`;
  const slack = results.slack_cold_answer;
  return [
    line(header),
    `|${widths.map((width, column) => (column === 0 ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`,
    ...rows.map(line),
    '',
    `Slack command, cold (fresh process, signed help then get): help answered ${show(slack?.help_ms, 'int')} ms and get ${show(slack?.get_ms, 'int')} ms after the process started; Slack allows ${slack?.budget_ms} ms.`,
    `Medians of ${results.runs.cold_rounds} cold rounds and ${results.runs.warm_invocations} warm invocations per subject, interleaved.`,
  ].join('\n');
}

await main();
