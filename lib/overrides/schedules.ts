/**
 * An override's one-time EventBridge Scheduler schedules, in the sampling schedule group: one at
 * its start when it starts later, one at its end. Each invokes the sampling function with
 * `{"cause": "override", "stream_id": …}` (that run sets the stream to its effective rate then),
 * with the boundary schedules' retry policy and dead-letter queue, and deletes itself after
 * (`ActionAfterCompletion: DELETE`). Named for the stream and the override's key, so that a new
 * override of the same key moves them rather than adding more. A lost schedule costs at most the
 * 15 minutes until the enforce run (lib/sampling/scheduled-run.ts).
 */
import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { Override } from '../sampling/effective.ts';
import { settings } from '../settings.ts';

/** The boundary schedules' retry policy (infra/sampling.ts): within an hour, then the queue. */
export const OVERRIDE_RETRY_POLICY = { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 };
const REQUEST_TIMEOUT_MS = 2_000;

let client: SchedulerClient | undefined;

/** One request, over by REQUEST_TIMEOUT_MS or the caller's deadline, whichever comes first. */
function send(command: { input: unknown }, deadline?: number): Promise<unknown> {
  client ??= new SchedulerClient({});
  const left = deadline === undefined ? REQUEST_TIMEOUT_MS : deadline - Date.now();
  return client.send(command as never, {
    abortSignal: AbortSignal.timeout(Math.max(0, Math.min(REQUEST_TIMEOUT_MS, left))),
  });
}

export interface ScheduleTarget {
  group: string;
  functionArn: string;
  roleArn: string;
  deadLetterArn: string;
}

/**
 * Where the schedules point, from the invoking function's own ARN (its partition, region and
 * account) and the names in its settings. Off AWS (serverless offline names no real ARN), the
 * sandbox's account in AWS_REGION.
 */
export function scheduleTarget(invokedFunctionArn: string | undefined): ScheduleTarget {
  const own = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:/.exec(
    invokedFunctionArn ?? '',
  );
  const [, partition, region, account] = own ?? [
    '',
    'aws',
    process.env.AWS_REGION || 'us-east-1',
    '000000000000',
  ];
  return {
    group: settings.samplingScheduleGroup(),
    functionArn: `arn:${partition}:lambda:${region}:${account}:function:${settings.samplingFunction()}`,
    roleArn: `arn:${partition}:iam::${account}:role/${settings.samplingSchedulerRole()}`,
    deadLetterArn: `arn:${partition}:sqs:${region}:${account}:${settings.samplingDeadLetterQueue()}`,
  };
}

export type Edge = 'start' | 'end';

/** `override-<stream id>-<10 hex of the key's SHA-256>-<start|end>`: at most 64 characters. */
export function scheduleName(override: Pick<Override, 'stream_id' | 'key'>, edge: Edge): string {
  const key = createHash('sha256').update(override.key).digest('hex').slice(0, 10);
  return `override-${override.stream_id}-${key}-${edge}`;
}

/** `at(…)` in UTC, rounded up to the second: never before the instant it stands for. */
export function atExpression(instant: number): string {
  return `at(${new Date(Math.ceil(instant / 1000) * 1000).toISOString().slice(0, 19)})`;
}

function scheduleInput(
  target: ScheduleTarget,
  name: string,
  instant: number,
  override: Override,
  edge: Edge,
): CreateScheduleCommandInput {
  return {
    Name: name,
    GroupName: target.group,
    Description: `Sampling override ${override.key} of ${override.stream_id}: its ${edge}`,
    ScheduleExpression: atExpression(instant),
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    State: 'ENABLED',
    Target: {
      Arn: target.functionArn,
      RoleArn: target.roleArn,
      Input: JSON.stringify({
        cause: 'override',
        stream_id: override.stream_id,
        scheduled_time: '<aws.scheduler.scheduled-time>',
        execution_id: '<aws.scheduler.execution-id>',
      }),
      RetryPolicy: OVERRIDE_RETRY_POLICY,
      DeadLetterConfig: { Arn: target.deadLetterArn },
    },
  };
}

async function put(input: CreateScheduleCommandInput, deadline?: number): Promise<void> {
  try {
    await send(new CreateScheduleCommand(input), deadline);
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
    await send(new UpdateScheduleCommand(input), deadline);
  }
}

async function remove(target: ScheduleTarget, name: string, deadline?: number): Promise<void> {
  try {
    await send(new DeleteScheduleCommand({ Name: name, GroupName: target.group }), deadline);
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}

/** Creates or moves the override's schedules: its start (if later than now) and its end. */
export async function scheduleOverride(
  target: ScheduleTarget,
  override: Override,
  now: number,
  /** When the caller must be done (ms since the epoch): no request goes past it. */
  deadline?: number,
): Promise<void> {
  const start = scheduleName(override, 'start');
  await (override.starts_at > now
    ? put(scheduleInput(target, start, override.starts_at, override, 'start'), deadline)
    : remove(target, start, deadline));
  await put(
    scheduleInput(target, scheduleName(override, 'end'), override.expires_at, override, 'end'),
    deadline,
  );
}

/** Deletes the override's schedules (it ended early); one already gone is no error. */
export async function unscheduleOverride(
  target: ScheduleTarget,
  override: Pick<Override, 'stream_id' | 'key'>,
  deadline?: number,
): Promise<void> {
  await remove(target, scheduleName(override, 'start'), deadline);
  await remove(target, scheduleName(override, 'end'), deadline);
}
