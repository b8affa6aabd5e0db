/**
 * The functions' settings: every environment variable they read, each with its default and its
 * check stated once (docs/operating.md "Configuration" lists them; serverless.yml sets them).
 * Read when used, not at import, so that tests and `serverless offline` can set them per run; a
 * missing or malformed value is an error that names the variable and says what it should be.
 */

/** A variable that must be set: its value, or an error that says what it names. */
function required(name: string, meaning: string): () => string {
  return () => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: it names ${meaning}.`);
    return value;
  };
}

/** A whole number of seconds, from `min` to `max`, or its default when unset. */
function wholeSeconds(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) {
  return (): number => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const seconds = Number(raw);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? '' : ` from 0 to ${max}`;
      throw new Error(`${name} must be a whole number of seconds${range}; got '${raw}'.`);
    }
    return seconds;
  };
}

/** A comma-separated list, or its default when unset. */
function list(name: string, fallback: readonly string[]) {
  return (): string[] => {
    const raw = process.env[name];
    if (!raw) return [...fallback];
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  };
}

export const DEFAULT_NGROK_API_URL = 'https://api.ngrok.com';
export const DEFAULT_SERVICE_NAME = 'ngrok-event-streams';
export const DEFAULT_METRICS_NAMESPACE = 'NgrokEventStreams';
export const DEFAULT_RESPONSE_URL_PREFIXES = ['https://hooks.slack.com/'];
/** ngrok allows 120 requests a minute per account: half for the schedule's runs. */
const DEFAULT_REQUESTS_PER_MINUTE = 60;

export const settings = {
  // The service's secret and the ngrok API.
  /** SECRET_ID: the Secrets Manager name or ARN of the service's secret. */
  secretId: required('SECRET_ID', 'the Secrets Manager secret to load'),
  /** SECRET_CACHE_SECONDS: how long a container keeps the secret before reading it again. */
  secretCacheSeconds: wholeSeconds('SECRET_CACHE_SECONDS', 300),
  /** NGROK_API_URL: the ngrok API. */
  ngrokApiUrl: (): string => process.env.NGROK_API_URL || DEFAULT_NGROK_API_URL,

  // The HTTP API's answers.
  /** PUBLIC_BASE_URL: the base URL callers reach this API at, when the request cannot tell. */
  publicBaseUrl: (): string | undefined =>
    process.env.PUBLIC_BASE_URL?.replace(/\/+$/, '') || undefined,
  /** IS_OFFLINE (set by serverless offline): links use the request's own host, over http. */
  offline: (): boolean => Boolean(process.env.IS_OFFLINE),

  // Logs and metrics (Powertools' own variables).
  /** POWERTOOLS_SERVICE_NAME: the `service` of logs and metrics. */
  serviceName: (): string => process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME,
  /** POWERTOOLS_METRICS_NAMESPACE: the metrics' CloudWatch namespace. */
  metricsNamespace: (): string =>
    process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
  /** AWS_LAMBDA_INITIALIZATION_TYPE (set by Lambda): a cold start is an on-demand container's first. */
  onDemand: (): boolean => process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'on-demand',

  // The sampling schedule.
  /** SAMPLING_REQUESTS_PER_MINUTE: the ngrok requests a minute a sampling run may make. */
  samplingRequestsPerMinute: (): number => {
    const raw = process.env.SAMPLING_REQUESTS_PER_MINUTE;
    if (raw === undefined || raw === '') return DEFAULT_REQUESTS_PER_MINUTE;
    const value = Number(raw);
    if (!(Number.isFinite(value) && value > 0)) {
      throw new Error(`SAMPLING_REQUESTS_PER_MINUTE must be a positive number; got '${raw}'.`);
    }
    return value;
  },

  // Sampling overrides.
  /** OVERRIDES_TABLE: the DynamoDB table of the sampling overrides. */
  overridesTable: required('OVERRIDES_TABLE', 'the DynamoDB table of the sampling overrides'),
  /** SAMPLING_OVERRIDE_MAX_HOURS: the longest an override may last (whole hours, 1 to 720). */
  samplingOverrideMaxHours: (): number => {
    const raw = process.env.SAMPLING_OVERRIDE_MAX_HOURS;
    if (raw === undefined || raw === '') return 24;
    const hours = Number(raw);
    if (!Number.isInteger(hours) || hours < 1 || hours > 720) {
      throw new Error(
        `SAMPLING_OVERRIDE_MAX_HOURS must be a whole number of hours from 1 to 720; got '${raw}'.`,
      );
    }
    return hours;
  },
  /** SAMPLING_SCHEDULE_GROUP: the schedule group an override's one-time schedules go in. */
  samplingScheduleGroup: required('SAMPLING_SCHEDULE_GROUP', 'the sampling schedule group'),
  /** SAMPLING_FUNCTION: the name of the function those schedules invoke. */
  samplingFunction: required('SAMPLING_FUNCTION', 'the sampling schedule function'),
  /** SAMPLING_SCHEDULER_ROLE: the name of the role EventBridge Scheduler invokes it with. */
  samplingSchedulerRole: required('SAMPLING_SCHEDULER_ROLE', "the sampling schedules' role"),
  /** SAMPLING_DEAD_LETTER_QUEUE: the name of the queue of schedule events that failed for good. */
  samplingDeadLetterQueue: required(
    'SAMPLING_DEAD_LETTER_QUEUE',
    'the queue of sampling events that failed',
  ),

  // Idempotency-Key (POST /event-streams).
  /** IDEMPOTENCY_KEYS_TABLE: the DynamoDB table of the Idempotency-Keys. */
  idempotencyKeysTable: required('IDEMPOTENCY_KEYS_TABLE', 'the table of Idempotency-Keys'),
  /**
   * IDEMPOTENCY_SETTLE_SECONDS: how long after a create's answer was lost (or its function's
   * deadline) ngrok may still act on it: a retry waits this long before it looks for the stream.
   */
  idempotencySettleSeconds: wholeSeconds('IDEMPOTENCY_SETTLE_SECONDS', 30, 3600),

  // The Slack command and its worker.
  /** SLACK_WORKER_FUNCTION: the worker the command hands long commands to. */
  slackWorkerFunction: required('SLACK_WORKER_FUNCTION', 'the Slack worker function'),
  /** IDEMPOTENCY_TABLE: the DynamoDB table of the worker's records. */
  slackIdempotencyTable: required('IDEMPOTENCY_TABLE', 'the DynamoDB table of the worker'),
  /** SLACK_RESPONSE_URL_PREFIXES: where later answers may be posted (comma-separated). */
  slackResponseUrlPrefixes: list('SLACK_RESPONSE_URL_PREFIXES', DEFAULT_RESPONSE_URL_PREFIXES),
};
