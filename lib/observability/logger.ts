/**
 * The service's one logger: Powertools Logger, JSON lines with the Lambda context, the service
 * name and, per request, the API Gateway request id as `correlation_id`. Level from
 * POWERTOOLS_LOG_LEVEL (serverless.yml sets it; default INFO). Every line of the service goes
 * through it, and every string in a line through `redact` (./redact.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { redactingReplacer } from './redact.ts';

export const SERVICE_NAME = 'ngrok-event-streams';

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
  jsonReplacerFn: redactingReplacer,
});
