/**
 * The service's one logger: Powertools Logger, JSON lines with the Lambda context, the service
 * name and, per request, the API Gateway request id as `correlation_id`. Level from
 * POWERTOOLS_LOG_LEVEL (serverless.yml sets it; default INFO). Every line of the service goes
 * through it, and every string in a line through `redact` (./redact.ts).
 */
import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { redactingReplacer } from './redact.ts';

export const SERVICE_NAME = 'ngrok-event-streams';

/**
 * Powertools' standard keys, without its `sampling_rate` (the logger's debug sampling, always 0
 * here), which would read as an Event Stream's `sampling_rate` in a query over these logs.
 */
class ServiceLogFormatter extends LogFormatter {
  override formatAttributes(
    attributes: UnformattedAttributes,
    additionalLogAttributes: LogAttributes,
  ): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: context?.coldStart,
        function_arn: context?.invokedFunctionArn,
        function_memory_size: context?.memoryLimitInMB,
        function_name: context?.functionName,
        function_request_id: context?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additionalLogAttributes);
  }
}

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
  logFormatter: new ServiceLogFormatter(),
  jsonReplacerFn: redactingReplacer,
});
