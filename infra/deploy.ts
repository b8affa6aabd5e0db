/**
 * What `serverless package` derives rather than spells out: the IAM resource of the service's
 * secret (a name or an ARN), and the operations resources (alarms and their metric filters) for
 * every function. Plain functions, tested without the framework; infra/serverless.cjs hands
 * them to serverless.yml.
 */

type Cfn = Record<string, unknown>;

/** Secrets Manager's own rule for secret names. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN =
  /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:([A-Za-z0-9/_+=.@-]{1,512})$/;
/** Secrets Manager appends a hyphen and six random characters to a name to make its ARN. */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/**
 * The IAM resource that lets the functions read exactly the one secret:
 * - a name: `arn:…:secret:<name>-??????` in the stack's partition, region and account;
 * - a full ARN (as the console shows it, ending in `-` and six characters): that ARN;
 * - a partial ARN (no suffix): that ARN followed by `-??????`.
 */
export function secretIamResource(secretName: string): string | Cfn {
  const arn = SECRET_ARN.exec(secretName);
  if (arn) return ARN_SUFFIX.test(arn[4] ?? '') ? secretName : `${secretName}-??????`;
  if (secretName.startsWith('arn:')) {
    throw new Error(
      `secretName '${secretName}' is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>).`,
    );
  }
  if (!SECRET_NAME.test(secretName)) {
    throw new Error(
      `secretName '${secretName}' is not a Secrets Manager secret name: letters, digits and /_+=.@- only.`,
    );
  }
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${secretName}-??????`,
  };
}

/** The framework's logical id of a function's log group (its normalised name + `LogGroup`). */
export function logGroupLogicalId(functionName: string): string {
  const normalized = functionName.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LogGroup`;
}

export interface OperationsInput {
  service: string;
  stage: string;
  functionNames: readonly string[];
  /** The namespace of the service's metrics (POWERTOOLS_METRICS_NAMESPACE). */
  metricsNamespace: string;
  /** An SNS topic that alarms notify; empty: alarms only change state. */
  alarmTopicArn: string;
  /** The HTTP API stage's throttle: requests a second (steady) and the burst above it. */
  throttleRateLimit: string | number;
  throttleBurstLimit: string | number;
}

function positiveNumber(name: string, value: string | number, integer: boolean): number {
  const number = Number(value);
  if (!(Number.isFinite(number) && number > 0 && (!integer || Number.isInteger(number)))) {
    throw new Error(
      `${name} must be a positive ${integer ? 'whole number' : 'number'}; got '${value}'.`,
    );
  }
  return number;
}

/** The request line's `kind` when ngrok refused the service's own API key. */
const REJECTED_KEY_PATTERN = '{ $.kind = "upstream-rejected-key" }';

function alarm(input: OperationsInput, name: string, description: string, metric: Cfn): Cfn {
  const actions = input.alarmTopicArn ? [input.alarmTopicArn] : undefined;
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${input.service}-${input.stage}-${name}`,
      AlarmDescription: description,
      ...metric,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ...(actions ? { AlarmActions: actions, OKActions: actions } : {}),
    },
  };
}

/**
 * Alarms: any 5xx answer of the HTTP API in five minutes; any answer of kind
 * `upstream-rejected-key` (ngrok refused the service's key: every request fails until an
 * operator updates the secret), counted by a metric filter on each function's request lines.
 * And the HTTP API stage's throttle, so that callers cannot spend the ngrok account's budget.
 */
export function operationsResources(input: OperationsInput): { Resources: Cfn; extensions: Cfn } {
  const Resources: Cfn = {};
  for (const functionName of input.functionNames) {
    const logGroup = logGroupLogicalId(functionName);
    Resources[`${logGroup.replace(/LogGroup$/, '')}RejectedKeyFilter`] = {
      Type: 'AWS::Logs::MetricFilter',
      Properties: {
        LogGroupName: { Ref: logGroup },
        FilterPattern: REJECTED_KEY_PATTERN,
        MetricTransformations: [
          {
            MetricNamespace: input.metricsNamespace,
            MetricName: 'UpstreamRejectedKey',
            MetricValue: '1',
          },
        ],
      },
    };
  }
  Resources.UpstreamRejectedKeyAlarm = alarm(
    input,
    'upstream-rejected-key',
    "ngrok refused the service's API key: put a valid key in the service's secret.",
    { Namespace: input.metricsNamespace, MetricName: 'UpstreamRejectedKey' },
  );
  Resources.HttpApi5xxAlarm = alarm(
    input,
    'http-api-5xx',
    "The HTTP API answered 5xx: see the functions' request lines (level ERROR) for why.",
    {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
    },
  );
  const extensions = {
    HttpApiStage: {
      Properties: {
        DefaultRouteSettings: {
          DetailedMetricsEnabled: false,
          ThrottlingRateLimit: positiveNumber('throttleRateLimit', input.throttleRateLimit, false),
          ThrottlingBurstLimit: positiveNumber(
            'throttleBurstLimit',
            input.throttleBurstLimit,
            true,
          ),
        },
      },
    },
  };
  return { Resources, extensions };
}
