/**
 * lib/jobs/job.ts: the chain of a function that is not behind the HTTP API (a schedule's target,
 * the Slack worker), with a hand-made job: its event checked before anything runs, the
 * correlation id of its lines, the service's secret (read from the sandbox's Secrets Manager),
 * and the one `run` line and `Runs` metric of each invocation, whether it succeeded, reported a
 * failure, or threw.
 */
import type { MiddlewareObj } from '@middy/core';
import * as z from 'zod/mini';
import { type JobContext, JobInputError, type JobOutcome, job } from '../../lib/jobs/job.ts';
import type { CallReport } from '../../lib/ngrok/transport.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import { configureService, lambdaContext } from '../helpers/lambda.ts';
import { serviceLogs } from '../helpers/logs.ts';
import { requestLog, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
const savedEnv = { ...process.env };

beforeEach(async () => {
  clearServiceSecretCache();
  await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
});
afterAll(() => {
  process.env = savedEnv;
});

const OPERATION = 'unitJob';

const Input = z.object({
  execution_id: z.optional(z.string()),
  rules: z.array(z.string()).check(z.minLength(1, 'must name a rule')),
});
type Input = z.infer<typeof Input>;

interface Seen {
  input: Input;
  callers: string[];
}

/** A job whose run is `outcome`, noting what it was given. */
function unitJob(
  outcome: (input: Input, context: JobContext) => Promise<JobOutcome<string>>,
  more: {
    correlation?: string;
    middlewares?: MiddlewareObj<unknown, string, Error, JobContext>[];
  } = {
    correlation: 'execution_id',
  },
) {
  const seen: Seen[] = [];
  const handler = job({ operation: OPERATION, input: Input, ...more }, async (input, context) => {
    seen.push({
      input,
      callers: context.serviceSecret.callers.map((caller) => caller.name),
    });
    return outcome(input, context);
  });
  return { handler, seen };
}

const calls: CallReport[] = [
  { operation: 'event_streams.list', status: 200, attempts: 3, duration_ms: 5 },
  { operation: 'event_streams.update', status: 200, attempts: 1, duration_ms: 5 },
  {
    operation: 'event_streams.update',
    status: 503,
    attempts: 2,
    duration_ms: 5,
    error: 'NgrokApiError',
  },
];

/** Invokes the job and returns how it ended and what it logged, by kind of line. */
async function invokeJob(handler: unknown, event: unknown) {
  const mark = serviceLogs.mark();
  let result: unknown;
  let error: unknown;
  try {
    result = await (handler as (event: unknown, context: unknown) => Promise<unknown>)(
      event,
      lambdaContext(),
    );
  } catch (thrown) {
    error = thrown;
  }
  const lines = serviceLogs.since(mark);
  return {
    result,
    error,
    runs: lines.filter((line) => line.message === 'run'),
    emf: lines.filter((line) => '_aws' in line),
  };
}

async function secretReads(): Promise<number> {
  return (await requestLog(ctx.url)).filter((entry) => entry.api === 'secretsmanager').length;
}

const succeed = async (input: Input, context: JobContext): Promise<JobOutcome<string>> => {
  context.record.ngrokCalls.push(...calls);
  return { result: `applied ${input.rules.join(',')}`, report: { rules: input.rules, patched: 1 } };
};

describe('job: the event', () => {
  it('fails an event that is not of the job’s schema before anything runs, with an ERROR run line', async () => {
    const { handler, seen } = unitJob(succeed);

    const { error, runs, emf } = await invokeJob(handler, { execution_id: 'exec-bad', rules: [] });

    expect(error).toBeInstanceOf(JobInputError);
    expect((error as Error).message).toBe('The event is not valid: rules must name a rule');
    expect(seen).toEqual([]);
    expect(await secretReads()).toBe(0);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      level: 'ERROR',
      operation: OPERATION,
      correlation_id: 'exec-bad',
      error: { name: 'JobInputError', message: expect.stringContaining('rules must name a rule') },
      ngrok: { calls: 0, retries: 0, failed: 0 },
    });
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Runs: 1, operation: OPERATION });
  });

  it('says “(event)” for an event that is not even an object', async () => {
    const { handler } = unitJob(succeed);

    const { error } = await invokeJob(handler, 'apply everything');

    expect(error).toBeInstanceOf(JobInputError);
    expect((error as Error).message).toMatch(/^The event is not valid: \(event\) /);
  });

  it('takes the correlation id from the event’s named field, else the Lambda request id', async () => {
    const named = unitJob(succeed);
    const unnamed = unitJob(succeed, {});

    const fromField = await invokeJob(named.handler, { execution_id: 'exec-42', rules: ['web'] });
    const empty = await invokeJob(named.handler, { execution_id: '', rules: ['web'] });
    const absent = await invokeJob(named.handler, { rules: ['web'] });
    const notNamed = await invokeJob(unnamed.handler, { execution_id: 'exec-43', rules: ['web'] });

    expect(fromField.runs[0]?.correlation_id).toBe('exec-42');
    expect(empty.runs[0]?.correlation_id).toBe('aws-request-id');
    expect(absent.runs[0]?.correlation_id).toBe('aws-request-id');
    expect(notNamed.runs[0]?.correlation_id).toBe('aws-request-id');
  });

  it('runs its extra middlewares after the event is checked, with the parsed event', async () => {
    const before: unknown[] = [];
    const middleware: MiddlewareObj<unknown, string, Error, JobContext> = {
      before: (request) => {
        before.push(request.context.jobInput);
      },
    };
    const { handler } = unitJob(succeed, { middlewares: [middleware] });

    await invokeJob(handler, { rules: [] });
    await invokeJob(handler, { rules: ['web'], ignored: true });

    expect(before).toEqual([{ rules: ['web'] }]);
  });
});

describe('job: the run', () => {
  it('gives the run the parsed event and the service’s secret, and answers its result', async () => {
    const { handler, seen } = unitJob(succeed);

    const { result, error } = await invokeJob(handler, {
      execution_id: 'exec-1',
      rules: ['web', 'api'],
      unknown_field: 1,
    });

    expect(error).toBeUndefined();
    expect(result).toBe('applied web,api');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.input).toEqual({ execution_id: 'exec-1', rules: ['web', 'api'] });
    expect(seen[0]?.callers).toEqual(['ci', 'dashboard', 'alertmanager']);
  });

  it('writes one INFO run line with the report, the duration and the ngrok calls summed up; and Runs', async () => {
    const { handler } = unitJob(succeed);

    const { runs, emf } = await invokeJob(handler, { execution_id: 'exec-2', rules: ['web'] });

    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      level: 'INFO',
      operation: OPERATION,
      correlation_id: 'exec-2',
      function_request_id: 'aws-request-id',
      rules: ['web'],
      patched: 1,
      duration_ms: expect.any(Number),
      ngrok: { calls: 3, retries: 3, failed: 1 },
    });
    expect(runs[0]).not.toHaveProperty('error');
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Runs: 1, operation: OPERATION });
  });

  it('writes a run whose outcome has a failure at ERROR, with its report, and then fails the invocation', async () => {
    const failure = new Error('2 streams were not set');
    const { handler } = unitJob(async (_input, context) => {
      context.record.ngrokCalls.push(...calls);
      return { result: 'partly', report: { patched: 1, failed: ['es_2'] }, failure };
    });

    const { result, error, runs, emf } = await invokeJob(handler, {
      execution_id: 'exec-3',
      rules: ['web'],
    });

    expect(error).toBe(failure);
    expect(result).toBeUndefined();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      level: 'ERROR',
      operation: OPERATION,
      correlation_id: 'exec-3',
      patched: 1,
      failed: ['es_2'],
      error: { name: 'Error', message: '2 streams were not set' },
      ngrok: { calls: 3, retries: 3, failed: 1 },
    });
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Runs: 1 });
  });

  it('writes a run that threw at ERROR, once, with the calls it made, and rethrows', async () => {
    const thrown = new TypeError('no rate for rule web');
    const { handler } = unitJob(async (_input, context) => {
      context.record.ngrokCalls.push(calls[0] as CallReport);
      throw thrown;
    });

    const { error, runs, emf } = await invokeJob(handler, { rules: ['web'] });

    expect(error).toBe(thrown);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      level: 'ERROR',
      operation: OPERATION,
      error: { name: 'TypeError', message: 'no rate for rule web' },
      ngrok: { calls: 1, retries: 2, failed: 0 },
    });
    expect(emf[0]).toMatchObject({ Runs: 1 });
  });

  it('does not run when the service’s secret cannot be read: one ERROR run line that says so', async () => {
    process.env.SECRET_ID = 'no-such-secret';
    const { handler, seen } = unitJob(succeed);

    const { error, runs } = await invokeJob(handler, { execution_id: 'exec-4', rules: ['web'] });

    expect((error as Error).name).toBe('ServiceSecretError');
    expect(seen).toEqual([]);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      level: 'ERROR',
      correlation_id: 'exec-4',
      error: { name: 'ServiceSecretError' },
    });
  });
});
