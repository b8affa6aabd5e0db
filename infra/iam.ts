/**
 * Least privilege per function: one IAM role each, holding only what its code uses. The table
 * below is the one place that says which function may do what (docs/operating.md "Permissions" shows it,
 * and test/e2e/package.test.ts checks the packaged template against its own copy of it).
 *
 * Roles are generated here rather than by a plugin: serverless-iam-roles-per-function, the one
 * plugin for this, had its last release in 2021 and no support for the framework's newer lines;
 * osls 4 has no per-function statements of its own. A function names its role in serverless.yml
 * (`role: <Function>Role`, which also stops the framework making its shared role); packaging
 * fails when a function names another role, or a row here names no function.
 */
import { secretIamResource } from './deploy.ts';
import { samplingGroupName } from './sampling.ts';

type Cfn = Record<string, unknown>;

/** One thing a function may do: its actions on one resource, and why it needs them. */
export interface Grant {
  actions: readonly string[];
  /** A CloudFormation value for the resource, given the service's secret name or ARN and its stage. */
  resource: (stack: GrantContext) => string | Cfn;
  /** A condition on the statement, if any. */
  condition?: Cfn;
  why: string;
}

/** What a grant's resource may depend on. */
export interface GrantContext {
  secretName: string;
  service: string;
  stage: string;
}

const getAtt = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const overrideSchedulesArn = ({ service, stage }: GrantContext) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${samplingGroupName(service, stage)}/*`,
});

export const GRANTS = {
  secret: {
    actions: ['secretsmanager:GetSecretValue'],
    resource: ({ secretName }) => secretIamResource(secretName),
    why: "reads the service's secret: the ngrok API key, the callers' token hashes, Slack's signing secret",
  },
  invokeSlackWorker: {
    actions: ['lambda:InvokeFunction'],
    resource: () => getAtt('SlackWorkerLambdaFunction'),
    why: 'hands a command that may take longer than 3 seconds to the worker',
  },
  slackIdempotency: {
    // Powertools Idempotency: put the record, read it, complete it, delete it when the run fails.
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    resource: () => getAtt('SlackIdempotencyTable'),
    why: 'runs each command once however often it is delivered (its records)',
  },
  idempotencyKeys: {
    // Claim a key, read its record, complete, mark or take it over, release it.
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    resource: () => getAtt('IdempotencyKeysTable'),
    why: "keeps each caller's Idempotency-Keys, so that a retried create answers as the first did",
  },
  samplingFailures: {
    actions: ['sqs:SendMessage'],
    resource: () => getAtt('SamplingDeadLetterQueue'),
    why: 'its on-failure destination: an event that failed for good goes to the queue',
  },
  readOverrides: {
    actions: ['dynamodb:Query', 'dynamodb:Scan'],
    resource: () => getAtt('SamplingOverridesTable'),
    why: 'reads the sampling overrides: the effective rate of a stream needs them',
  },
  putOverrides: {
    actions: ['dynamodb:PutItem'],
    resource: () => getAtt('SamplingOverridesTable'),
    why: 'stores an override in place of the one of its key',
  },
  endOverrides: {
    actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    resource: () => getAtt('SamplingOverridesTable'),
    why: 'ends an override now (a conditional write) and removes it once its stream is set',
  },
  readMarks: {
    actions: ['dynamodb:GetItem'],
    resource: () => getAtt('SamplingOverridesTable'),
    why: "reads a mark: an alert's resolution, a webhook delivery seen before",
  },
  settleOverrides: {
    actions: ['dynamodb:DeleteItem'],
    resource: () => getAtt('SamplingOverridesTable'),
    why: 'removes an override that has ended once its stream is set right',
  },
  overrideSchedules: {
    actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
    resource: overrideSchedulesArn,
    why: "makes, moves and deletes an override's one-time schedules, in the sampling schedule group only",
  },
  deleteOverrideSchedules: {
    actions: ['scheduler:DeleteSchedule'],
    resource: overrideSchedulesArn,
    why: "deletes an override's schedules when it ends early",
  },
  passSchedulerRole: {
    actions: ['iam:PassRole'],
    resource: () => getAtt('SamplingSchedulerRole'),
    condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    why: "gives those schedules the scheduler's role (which may only invoke the sampling function)",
  },
} as const satisfies Record<string, Grant>;

export type GrantName = keyof typeof GRANTS;

/** What a function may do besides writing its own logs, when it is not in FUNCTION_GRANTS. */
export const DEFAULT_GRANTS: readonly GrantName[] = ['secret'];

/**
 * The functions that may do something else than the default: read the secret (every route with
 * a token or a signature needs it). A new read-only route needs no row.
 */
/** What an alert webhook needs. */
const ALERTS: readonly GrantName[] = [
  'secret',
  'readOverrides',
  'readMarks',
  'putOverrides',
  'endOverrides',
  'overrideSchedules',
  'passSchedulerRole',
];

export const FUNCTION_GRANTS: Record<string, readonly GrantName[]> = {
  createEventStream: ['secret', 'idempotencyKeys'],
  getOpenApi: [],
  getSamplingPlan: ['secret', 'readOverrides'],
  applySampling: ['secret', 'readOverrides'],
  applySamplingSchedule: ['secret', 'samplingFailures', 'readOverrides', 'settleOverrides'],
  setSamplingOverride: [
    'secret',
    'readOverrides',
    'putOverrides',
    'overrideSchedules',
    'passSchedulerRole',
  ],
  endSamplingOverride: ['secret', 'readOverrides', 'endOverrides', 'deleteOverrideSchedules'],
  // An alert sets, extends and ends overrides, and marks what it has seen.
  alertmanagerWebhook: ALERTS,
  pagerdutyWebhook: ALERTS,
  listSamplingOverrides: ['secret', 'readOverrides'],
  slackCommand: ['secret', 'invokeSlackWorker', 'readOverrides'],
  // Its `sample … for` and `release`: what the two routes above may do.
  slackWorker: [
    'secret',
    'slackIdempotency',
    'readOverrides',
    'putOverrides',
    'endOverrides',
    'overrideSchedules',
    'passSchedulerRole',
  ],
};

/** The logical id of a function's role, as serverless.yml names it (`role:`). */
export function roleLogicalId(functionName: string): string {
  return `${functionName.charAt(0).toUpperCase()}${functionName.slice(1)}Role`;
}

export interface IamInput {
  service: string;
  stage: string;
  secretName: string;
  /** serverless.yml's `functions`: each function's settings, of which `role` and `name`. */
  functions: Record<string, { role?: unknown; name?: unknown } | null | undefined>;
}

/** The statements of one function's role: its own log group, then its grants in table order. */
export function statementsFor(
  functionName: string,
  lambdaName: string,
  stack: GrantContext,
): Cfn[] {
  const grants = FUNCTION_GRANTS[functionName] ?? DEFAULT_GRANTS;
  return [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${lambdaName}:*`,
      },
    },
    ...grants.map((name) => {
      const grant: Grant = GRANTS[name];
      return {
        Effect: 'Allow',
        Action: [...grant.actions],
        Resource: grant.resource(stack),
        ...(grant.condition ? { Condition: grant.condition } : {}),
      };
    }),
  ];
}

/** One role per function, each assumable by Lambda alone. */
export function iamResources(input: IamInput): { Resources: Cfn } {
  const Resources: Cfn = {};
  const names = Object.keys(input.functions);
  const missing = Object.keys(FUNCTION_GRANTS).filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw new Error(
      `infra/iam.ts grants permissions to ${missing.join(', ')}, which serverless.yml does not declare.`,
    );
  }
  for (const name of names) {
    const settings = input.functions[name] ?? {};
    const role = roleLogicalId(name);
    if (settings.role !== role) {
      throw new Error(
        `Function '${name}' must name its own role in serverless.yml: role: ${role} (infra/iam.ts makes it).`,
      );
    }
    const lambdaName =
      typeof settings.name === 'string' ? settings.name : `${input.service}-${input.stage}-${name}`;
    Resources[role] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `The ${name} function's own role (infra/iam.ts)`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
        Policies: [
          {
            PolicyName: name,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: statementsFor(name, lambdaName, {
                secretName: input.secretName,
                service: input.service,
                stage: input.stage,
              }),
            },
          },
        ],
      },
    };
  }
  return { Resources };
}
