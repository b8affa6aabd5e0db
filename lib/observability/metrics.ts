/**
 * Powertools Metrics: CloudWatch embedded metric format, written with the logs (no API calls).
 * Namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME
 * (serverless.yml). Per operation (dimension `operation`): `Requests`, `Latency`,
 * `UpstreamErrors`, `UpstreamRetries` and `ColdStart`.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logger, SERVICE_NAME } from './logger.ts';

export const METRICS_NAMESPACE = 'NgrokEventStreams';

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
  // Its own warnings (e.g. nothing to publish) as JSON lines of the service's logger.
  logger,
});
