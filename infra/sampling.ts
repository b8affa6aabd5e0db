/**
 * The sampling schedule's CloudFormation, derived from the policy (lib/sampling/schedules.ts):
 * a schedule group of the service and stage; one AWS::Scheduler::Schedule per boundary time
 * (cron with day names, in the rule's zone, no flexible window, a retry policy, a dead-letter
 * queue); one-time schedules for boundaries that daylight saving would skip; one
 * `rate(15 minutes)` schedule (enforced rules, and the overrides' backstop); a role that may only invoke the sampling
 * function and send to the queue; the queue, and an alarm on its depth.
 */
import {
  boundarySchedules,
  ENFORCE_EXPRESSION,
  ENFORCE_SCHEDULE_NAME,
  enforcedRules,
  type GapSchedule,
  gapSchedules,
} from '../lib/sampling/schedules.ts';
import { formatMinutes, type Policy } from '../lib/sampling/types.ts';

type Cfn = Record<string, unknown>;

export const SAMPLING_FUNCTION = 'applySamplingSchedule';
const FUNCTION_ARN = { 'Fn::GetAtt': ['ApplySamplingScheduleLambdaFunction', 'Arn'] };
const QUEUE_ARN = { 'Fn::GetAtt': ['SamplingDeadLetterQueue', 'Arn'] };
const ROLE_ARN = { 'Fn::GetAtt': ['SamplingSchedulerRole', 'Arn'] };

/** CloudFormation takes 500 resources a stack; the functions and their routes need about 100. */
export const MAX_SCHEDULES = 300;

/** Retries of the invocation itself (throttled, unavailable): within an hour, then the queue. */
const RETRY_POLICY = { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 };

export interface SamplingInput {
  service: string;
  stage: string;
  policy: Policy;
  /** Gap schedules are made for the next 24 months from this instant (package time). */
  now: number;
  alarmTopicArn: string;
}

/** CloudFormation logical ids are alphanumeric: a schedule's name, spelled so. */
export function logicalIdOf(prefix: string, name: string): string {
  return `${prefix}${name
    .split(/[^A-Za-z0-9]+/)
    .map((part) => (part ? `${part[0]?.toUpperCase()}${part.slice(1)}` : ''))
    .join('')}`;
}

function schedule(
  name: string,
  description: string,
  expression: string,
  timezone: string | undefined,
  event: Record<string, unknown>,
): Cfn {
  return {
    Type: 'AWS::Scheduler::Schedule',
    Properties: {
      Name: name,
      GroupName: { Ref: 'SamplingScheduleGroup' },
      Description: description.slice(0, 512),
      ScheduleExpression: expression,
      ...(timezone ? { ScheduleExpressionTimezone: timezone } : {}),
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: FUNCTION_ARN,
        RoleArn: ROLE_ARN,
        Input: JSON.stringify({ ...event, execution_id: '<aws.scheduler.execution-id>' }),
        RetryPolicy: RETRY_POLICY,
        DeadLetterConfig: { Arn: QUEUE_ARN },
      },
    },
  };
}

export function samplingGroupName(service: string, stage: string): string {
  return `${service}-${stage}-sampling`;
}

/**
 * The scheduler role's and the queue's names: fixed, so that the functions that make override
 * schedules name them (their ARNs from the function's own) without a reference back to the
 * sampling function, which the role names (a cycle CloudFormation refuses).
 */
export function samplingSchedulerRoleName(service: string, stage: string): string {
  return `${service}-${stage}-sampling-scheduler`;
}

export function samplingDeadLetterQueueName(service: string, stage: string): string {
  return `${service}-${stage}-sampling-failed`;
}

export function samplingResources(input: SamplingInput): { Resources: Cfn; gaps: GapSchedule[] } {
  const group = samplingGroupName(input.service, input.stage);
  const role = samplingSchedulerRoleName(input.service, input.stage);
  if (role.length > 64) {
    throw new Error(
      `The sampling scheduler's role would be named ${role} (${role.length} characters): IAM allows 64. Use a shorter service or stage name.`,
    );
  }
  const Resources: Cfn = {
    SamplingScheduleGroup: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: group } },
    SamplingDeadLetterQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: samplingDeadLetterQueueName(input.service, input.stage),
        MessageRetentionPeriod: 1_209_600,
      },
    },
    SamplingDeadLetterAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${input.service}-${input.stage}-sampling-failed-events`,
        AlarmDescription:
          'A sampling schedule event failed for good (after the retries): its message in the queue says which rules and when.',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': ['SamplingDeadLetterQueue', 'QueueName'] } },
        ],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        ...(input.alarmTopicArn
          ? { AlarmActions: [input.alarmTopicArn], OKActions: [input.alarmTopicArn] }
          : {}),
      },
    },
    SamplingSchedulerRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: role,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                ArnEquals: {
                  'aws:SourceArn': {
                    'Fn::Sub': `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule-group/${group}`,
                  },
                },
              },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'invoke-sampling-function',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: FUNCTION_ARN },
                { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE_ARN },
              ],
            },
          },
        ],
      },
    },
  };

  const add = (id: string, resource: Cfn) => {
    if (id in Resources) throw new Error(`Two sampling schedules would be ${id}.`);
    Resources[id] = resource;
  };
  for (const each of boundarySchedules(input.policy)) {
    add(
      logicalIdOf('SamplingSchedule', each.name),
      schedule(
        each.name,
        `Sampling boundary ${each.days.join(',')} ${formatMinutes(each.minute)} ${each.timezone}: rules ${each.rules.join(', ')}`,
        each.expression,
        each.timezone,
        { cause: 'boundary', rules: each.rules, scheduled_time: '<aws.scheduler.scheduled-time>' },
      ),
    );
  }
  const gaps = gapSchedules(input.policy, input.now);
  for (const gap of gaps) {
    add(
      logicalIdOf('SamplingSchedule', gap.name),
      schedule(
        gap.name,
        `Sampling boundary ${gap.skipped} ${gap.timezone} on ${gap.date}, which daylight saving skips: at the end of the gap. Rules ${gap.rules.join(', ')}`,
        gap.expression,
        gap.timezone,
        { cause: 'boundary', rules: gap.rules, scheduled_time: '<aws.scheduler.scheduled-time>' },
      ),
    );
  }
  const schedules = Object.values(Resources).filter(
    (resource) => (resource as { Type: string }).Type === 'AWS::Scheduler::Schedule',
  ).length;
  if (schedules > MAX_SCHEDULES) {
    throw new Error(
      `The sampling policy needs ${schedules} schedules (one per distinct boundary time and zone, and per daylight-saving gap); at most ${MAX_SCHEDULES} fit in the stack beside the functions. Use fewer distinct times.`,
    );
  }
  // Always: besides the enforced rules' streams, it sets every stream whose override started or
  // ended and was not set yet (the backstop of a lost one-time schedule).
  const enforced = enforcedRules(input.policy);
  add(
    logicalIdOf('SamplingSchedule', ENFORCE_SCHEDULE_NAME),
    schedule(
      ENFORCE_SCHEDULE_NAME,
      `Sampling: every 15 minutes, set the streams whose override started or ended${enforced.length > 0 ? `, and those of enforced rules: ${enforced.join(', ')}` : ''}`,
      ENFORCE_EXPRESSION,
      undefined,
      { cause: 'enforce', rules: enforced },
    ),
  );
  return { Resources, gaps };
}

/** The warning `serverless package` prints for the boundaries daylight saving would skip. */
export function gapWarning(gaps: readonly GapSchedule[]): string | undefined {
  if (gaps.length === 0) return undefined;
  const lines = gaps.map(
    (gap) =>
      `  ${gap.skipped} ${gap.timezone} does not exist on ${gap.date}: set at ${gap.expression.slice(3, -1).replace('T', ' ')} instead (rules ${gap.rules.join(', ')})`,
  );
  return `Sampling schedule: ${gaps.length} boundaries fall in a daylight-saving gap in the next 24 months; EventBridge Scheduler would skip them, so one-time schedules at the end of each gap are added:\n${lines.join('\n')}`;
}
