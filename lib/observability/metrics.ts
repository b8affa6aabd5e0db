/**
 * Powertools Metrics: CloudWatch embedded metric format, written with the logs (no API calls).
 * Namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME
 * (serverless.yml). Per operation (dimension `operation`): `Requests`, `Latency`,
 * `UpstreamErrors`, `UpstreamRetries` and `ColdStart`.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { settings } from '../settings.ts';
import { logger } from './logger.ts';

export const metrics = new Metrics({
  namespace: settings.metricsNamespace(),
  serviceName: settings.serviceName(),
  // Its own warnings (e.g. nothing to publish) as JSON lines of the service's logger.
  logger,
});
