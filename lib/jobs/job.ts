/**
 * A function that is not behind the HTTP API (a schedule's target), as a middy chain: metrics,
 * the Lambda context in the logs, its input checked with zod, the service's secret, and one
 * `run` line at the end — with what the job reports, each ngrok call summed up, and the error
 * if it failed (the error is rethrown: Lambda retries the event, then sends it to the queue of
 * failed events).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { CallReport } from '../ngrok/transport.ts';
import { logger } from '../observability/logger.ts';
import { metrics } from '../observability/metrics.ts';
import { loadServiceSecret, type ServiceSecret } from '../secrets/service-secret.ts';

export interface JobContext extends Context {
  serviceSecret: ServiceSecret;
  record: { ngrokCalls: CallReport[] };
  /** Set by the job's own middleware: the event, parsed. */
  jobInput?: unknown;
  started?: number;
  reported?: boolean;
}

export interface JobOutcome<T> {
  /** What the job answers (to `invoke`, and in tests). */
  result: T;
  /** Fields of the `run` line. */
  report: Record<string, unknown>;
  /** Set when the job did not do all it should: the invocation fails after the line. */
  failure?: Error;
}

export class JobInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobInputError';
  }
}

/**
 * Checks the event against the job's schema before anything else runs (idempotency included),
 * and writes the `run` line of a job that failed before its handler could.
 */
function jobInput<S extends z.ZodMiniType, T>(
  spec: { operation: string; input: S; correlation?: string },
  finish: (context: JobContext, level: 'info' | 'error', fields: Record<string, unknown>) => void,
): MiddlewareObj<unknown, T, Error, JobContext> {
  return {
    before: (request) => {
      const { event, context } = request;
      context.started = performance.now();
      // The id the job's event carries (a schedule's execution id, a command's request id) ties
      // its lines together; the Lambda request id where it has none.
      const correlation = spec.correlation
        ? (event as Record<string, unknown> | null)?.[spec.correlation]
        : undefined;
      logger.setCorrelationId(
        typeof correlation === 'string' && correlation !== '' ? correlation : context.awsRequestId,
      );
      metrics.addDimension('operation', spec.operation);
      context.record = { ngrokCalls: [] };
      context.reported = false;
      const parsed = spec.input.safeParse(event);
      if (!parsed.success) {
        const where = parsed.error.issues.map(
          (issue) => `${issue.path.join('.') || '(event)'} ${issue.message}`,
        );
        throw new JobInputError(`The event is not valid: ${where.join('; ')}`);
      }
      context.jobInput = parsed.data;
    },
    onError: (request) => {
      if (!request.context.reported) finish(request.context, 'error', { error: request.error });
    },
  };
}

export function job<S extends z.ZodMiniType, T>(
  spec: {
    operation: string;
    input: S;
    /** The event's field whose value is the correlation id of the job's lines. */
    correlation?: string;
    /** More middlewares, after the event is checked (e.g. ./once.ts). */
    middlewares?: MiddlewareObj<unknown, T, Error, JobContext>[];
  },
  run: (input: z.infer<S>, context: JobContext) => Promise<JobOutcome<T>>,
) {
  const finish = (
    context: JobContext,
    level: 'info' | 'error',
    fields: Record<string, unknown>,
  ) => {
    const calls = context.record?.ngrokCalls ?? [];
    logger[level]('run', {
      operation: spec.operation,
      ...fields,
      duration_ms: Math.round(performance.now() - (context.started ?? performance.now())),
      ngrok: {
        calls: calls.length,
        retries: calls.reduce((sum, call) => sum + Math.max(0, call.attempts - 1), 0),
        failed: calls.filter((call) => call.error !== undefined).length,
      },
    });
    metrics.addMetric('Runs', MetricUnit.Count, 1);
    context.reported = true;
  };
  const handler = async (_event: unknown, context: JobContext): Promise<T> => {
    context.serviceSecret = await loadServiceSecret({
      timeoutMs: context.getRemainingTimeInMillis() - 1_000,
    });
    const outcome = await run(context.jobInput as z.infer<S>, context);
    finish(context, outcome.failure ? 'error' : 'info', {
      ...outcome.report,
      ...(outcome.failure ? { error: outcome.failure } : {}),
    });
    if (outcome.failure) throw outcome.failure;
    return outcome.result;
  };
  const chain = middy<unknown, T, Error, JobContext>()
    .use(logMetrics(metrics))
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(jobInput<S, T>(spec, finish));
  for (const middleware of spec.middlewares ?? []) chain.use(middleware);
  return chain.handler(handler);
}
