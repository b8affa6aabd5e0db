/**
 * One line per request, successes included: route, caller, status, duration, the stream, and
 * each ngrok call (operation, status, attempts, ngrok's operation id). The API Gateway request
 * id is the correlation id of every line of the request, and goes back to the caller as
 * `x-request-id`. Also the request's metrics. Registered outside `problemDetails`, so that it
 * sees the final answer, errors included.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from '../observability/logger.ts';
import { metrics } from '../observability/metrics.ts';
import { settings } from '../settings.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/** As Powertools tells it: the container's first invocation, when Lambda started it on demand. */
let coldStart = settings.onDemand();

/** An ngrok call that failed for the upstream's reasons, not the caller's (400 and 404 are). */
function isUpstreamError(report: { status?: number; error?: string }): boolean {
  if (report.error === undefined) return false;
  return report.status === undefined || (report.status !== 400 && report.status !== 404);
}

export function requestLog({ operation }: { operation: string }): ApiMiddleware {
  const requestLogBefore = (request: ApiRequest) => {
    // API Gateway's request id; the Lambda's when there is none (an event made by hand), or when
    // serverless offline's own HTTP server gives every request the same placeholder.
    const apiRequestId = (request.event as Partial<typeof request.event> | null)?.requestContext
      ?.requestId as unknown;
    const requestId =
      typeof apiRequestId === 'string' &&
      /^[A-Za-z0-9=+/_.-]{1,128}$/.test(apiRequestId) &&
      !apiRequestId.startsWith('offlineContext_')
        ? apiRequestId
        : request.context.awsRequestId;
    request.context.record = { requestId, started: performance.now(), ngrokCalls: [] };
    logger.setCorrelationId(requestId);
    metrics.addDimension('operation', operation);
    // In this request's own metrics (not a separate blob): cold starts per operation.
    if (coldStart) metrics.addMetric('ColdStart', MetricUnit.Count, 1);
    coldStart = false;
  };

  const requestLogAfter = (request: ApiRequest) => {
    const { record } = request.context;
    const response = request.response ?? { statusCode: 500 };
    request.response = response;
    response.headers = { ...response.headers, [REQUEST_ID_HEADER]: record.requestId };
    const status = response.statusCode ?? 200;
    const duration = performance.now() - record.started;
    const path = request.context.input?.path as { id?: string } | undefined;
    const fields = {
      route: (request.event as Partial<typeof request.event> | null)?.routeKey,
      caller: request.context.callerName,
      status,
      duration_ms: Math.round(duration),
      stream_id: path?.id ?? record.streamId,
      kind: record.problem?.kind,
      note: record.note,
      ngrok_calls: record.ngrokCalls,
    };
    if (status >= 500) logger.error('request', { ...fields, error: record.error });
    else logger.info('request', fields);

    metrics.addMetric('Requests', MetricUnit.Count, 1);
    metrics.addMetric('Latency', MetricUnit.Milliseconds, duration);
    const calls = record.ngrokCalls;
    const upstreamErrors = calls.filter(isUpstreamError).length;
    const retries = calls.reduce((sum, call) => sum + Math.max(0, call.attempts - 1), 0);
    metrics.addMetric('UpstreamErrors', MetricUnit.Count, upstreamErrors);
    metrics.addMetric('UpstreamRetries', MetricUnit.Count, retries);
  };

  return { before: requestLogBefore, after: requestLogAfter, onError: requestLogAfter };
}
