/**
 * The service's one logger: Powertools Logger, JSON lines with the Lambda context, the service
 * name and, per request, the API Gateway request id as `correlation_id`. Level from
 * POWERTOOLS_LOG_LEVEL (serverless.yml sets it; default INFO). Every line of the service goes
 * through it, and every string in a line through `redact` (./redact.ts). An error's stack and
 * location name this project's TypeScript files (./source-map.ts).
 */
import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { settings } from '../settings.ts';
import { redactingReplacer } from './redact.ts';
import { sourceMappedStack } from './source-map.ts';

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

  /** Powertools' error fields, with the stack and its location moved to the sources. */
  override formatError(error: Error): LogAttributes {
    const formatted = super.formatError(error);
    if (typeof error.stack !== 'string') return formatted;
    const stack = sourceMappedStack(error.stack);
    return {
      ...formatted,
      location: this.getCodeLocation(stack),
      stack: Array.isArray(formatted.stack) ? stack.split('\n') : stack,
    };
  }
}

export const logger = new Logger({
  serviceName: settings.serviceName(),
  logFormatter: new ServiceLogFormatter(),
  jsonReplacerFn: redactingReplacer,
});
