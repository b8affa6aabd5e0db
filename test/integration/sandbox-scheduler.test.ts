/**
 * The sandbox's EventBridge Scheduler stand-in, through the real `@aws-sdk/client-scheduler`: the
 * schedule operations and AWS's errors, and its clock, which fires a due one-time schedule once by
 * invoking its Lambda target asynchronously at a Lambda endpoint (here a small local HTTP server
 * standing in for serverless offline's), retries a failed invoke per the RetryPolicy, and deletes
 * the schedule after (ActionAfterCompletion DELETE). The clock is driven with
 * `sandbox.scheduler.tick(now)`: deterministic, whatever the time of the run.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListSchedulesCommand,
  paginateListSchedules,
  SchedulerClient,
  type SchedulerClientConfig,
  type SchedulerServiceException,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { FiredRecord } from '../../sandbox/scheduler.ts';
import { wallTimeToInstant } from '../../sandbox/scheduler.ts';
import { type SandboxOptions, startSandbox } from '../../sandbox/server.ts';
import { control, useSandbox } from '../helpers/sandbox.ts';

/** The service's own group, which `npm start` creates at start (options.scheduler.groups). */
const GROUP = 'ngrok-event-streams-dev';
const FUNCTION = 'ngrok-event-streams-dev-boundary';
const TARGET_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION}`;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/ngrok-event-streams-scheduler';

// ---- a stand-in for serverless offline's Lambda endpoint ---------------------------------

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
/** The statuses to answer, in turn; 202 once they run out. */
let answers: number[] = [];
let lambda: Server;

const options: SandboxOptions = { rateLimit: false, scheduler: { tickMs: false, groups: [GROUP] } };

beforeAll(async () => {
  lambda = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      response.writeHead(answers.shift() ?? 202).end();
    });
  });
  await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
  const { port } = lambda.address() as AddressInfo;
  // Read by startSandbox in useSandbox's beforeAll, which runs after this one.
  options.scheduler = { ...options.scheduler, lambdaUrl: `http://127.0.0.1:${port}` };
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      lambda.close(() => resolve());
      lambda.closeAllConnections();
    }),
);

const ctx = useSandbox(options);
let scheduler: SchedulerClient;

beforeAll(() => {
  scheduler = new SchedulerClient({
    endpoint: ctx.url,
    region: 'us-east-1',
    credentials: ctx.sandbox.awsCredentials,
    maxAttempts: 1,
  });
});
afterAll(() => scheduler.destroy());
beforeEach(() => {
  received.length = 0;
  answers = [];
});

// ---- helpers -----------------------------------------------------------------------------

/** A one-time schedule as the service makes them: at() in a group, OFF, DELETE after. */
function oneTime(
  name: string,
  at: string,
  more: Partial<CreateScheduleCommandInput> = {},
): CreateScheduleCommandInput {
  return {
    Name: name,
    GroupName: GROUP,
    ScheduleExpression: `at(${at})`,
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: TARGET_ARN,
      RoleArn: ROLE_ARN,
      Input: JSON.stringify({ kind: 'override-start', override_id: name }),
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:ngrok-event-streams-dlq' },
    },
    ...more,
  };
}

const create = (input: CreateScheduleCommandInput) =>
  scheduler.send(new CreateScheduleCommand(input));
const get = (name: string, group: string | undefined = GROUP) =>
  scheduler.send(new GetScheduleCommand({ Name: name, GroupName: group }));
const tick = (at: string | number) =>
  ctx.sandbox.scheduler.tick(typeof at === 'number' ? at : Date.parse(at));

/** The error a call failed with (it must fail). */
async function failure(call: Promise<unknown>): Promise<SchedulerServiceException> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('The call succeeded');
  return outcome as SchedulerServiceException;
}

async function fired(): Promise<FiredRecord[]> {
  return (await control<{ fired: FiredRecord[] }>(ctx.url, 'GET', '/scheduler/fired')).fired;
}

// ---- the API -----------------------------------------------------------------------------

describe('Sandbox Scheduler: the schedule operations', () => {
  it('creates a schedule and gets it back with the defaults AWS fills in', async () => {
    const created = await create(
      oneTime('start-1', '2030-06-01T12:00:00', {
        Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN, Input: '{"a":1}' },
        ActionAfterCompletion: undefined,
      }),
    );
    const schedule = await get('start-1');

    expect(created.ScheduleArn).toBe(
      `arn:aws:scheduler:us-east-1:000000000000:schedule/${GROUP}/start-1`,
    );
    expect(schedule).toMatchObject({
      Arn: created.ScheduleArn,
      Name: 'start-1',
      GroupName: GROUP,
      ScheduleExpression: 'at(2030-06-01T12:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      ActionAfterCompletion: 'NONE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: TARGET_ARN,
        RoleArn: ROLE_ARN,
        Input: '{"a":1}',
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      },
    });
    expect(schedule.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs((schedule.CreationDate as Date).getTime() - Date.now())).toBeLessThan(10_000);
    expect(schedule.LastModificationDate).toEqual(schedule.CreationDate);
  });

  it('updates a schedule as a whole: what is left out is back to its default', async () => {
    await create(oneTime('move-me', '2030-06-01T12:00:00', { Description: 'first' }));
    const before = await get('move-me');
    await new Promise((resolve) => setTimeout(resolve, 5));

    const updated = await scheduler.send(
      new UpdateScheduleCommand({
        Name: 'move-me',
        GroupName: GROUP,
        ScheduleExpression: 'at(2030-06-02T08:30:00)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN, Input: '{"moved":true}' },
      }),
    );
    const after = await get('move-me');

    expect(updated.ScheduleArn).toBe(before.Arn);
    expect(after).toMatchObject({
      ScheduleExpression: 'at(2030-06-02T08:30:00)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      ActionAfterCompletion: 'NONE',
      Target: { Input: '{"moved":true}', RetryPolicy: { MaximumRetryAttempts: 185 } },
    });
    expect(after.Description).toBeUndefined();
    expect(after.CreationDate).toEqual(before.CreationDate);
    expect((after.LastModificationDate as Date) > (before.LastModificationDate as Date)).toBe(true);
  });

  it('deletes a schedule; then it is gone', async () => {
    await create(oneTime('end-1', '2030-06-01T12:00:00'));

    await scheduler.send(new DeleteScheduleCommand({ Name: 'end-1', GroupName: GROUP }));
    const gone = await failure(get('end-1'));

    expect(gone.name).toBe('ResourceNotFoundException');
    expect(gone.$metadata.httpStatusCode).toBe(404);
    expect(gone.message).toBe('Schedule end-1 does not exist.');
  });

  it('lists by group, name prefix and state, in pages', async () => {
    for (const name of ['ovr-a-start', 'ovr-a-end', 'ovr-b-start', 'other']) {
      await create(oneTime(name, '2030-06-01T12:00:00'));
    }
    await create({ ...oneTime('ovr-c-start', '2030-06-01T12:00:00'), State: 'DISABLED' });
    await create({ ...oneTime('ovr-in-default', '2030-06-01T12:00:00'), GroupName: undefined });

    const names: string[] = [];
    for await (const page of paginateListSchedules(
      { client: scheduler, pageSize: 2 },
      { GroupName: GROUP, NamePrefix: 'ovr-', State: 'ENABLED' },
    )) {
      expect((page.Schedules ?? []).length).toBeLessThanOrEqual(2);
      names.push(...(page.Schedules ?? []).map((each) => each.Name as string));
    }
    const inDefault = await scheduler.send(new ListSchedulesCommand({ GroupName: 'default' }));
    const all = await scheduler.send(new ListSchedulesCommand({}));

    expect(names).toEqual(['ovr-a-end', 'ovr-a-start', 'ovr-b-start']);
    expect(inDefault.Schedules).toEqual([
      expect.objectContaining({
        Name: 'ovr-in-default',
        GroupName: 'default',
        State: 'ENABLED',
        Target: { Arn: TARGET_ARN },
      }),
    ]);
    expect(all.Schedules).toHaveLength(6);
    expect(all.NextToken).toBeUndefined();
  });

  it('creates and gets a schedule group; `default` always exists', async () => {
    const created = await scheduler.send(new CreateScheduleGroupCommand({ Name: 'another' }));
    const group = await scheduler.send(new GetScheduleGroupCommand({ Name: 'another' }));
    const fallback = await scheduler.send(new GetScheduleGroupCommand({ Name: 'default' }));
    await create({ ...oneTime('in-another', '2030-06-01T12:00:00'), GroupName: 'another' });
    const again = await failure(
      scheduler.send(new CreateScheduleGroupCommand({ Name: 'another' })),
    );

    expect(created.ScheduleGroupArn).toBe(
      'arn:aws:scheduler:us-east-1:000000000000:schedule-group/another',
    );
    expect(group).toMatchObject({
      Name: 'another',
      State: 'ACTIVE',
      Arn: created.ScheduleGroupArn,
    });
    expect(fallback).toMatchObject({ Name: 'default', State: 'ACTIVE' });
    expect((await get('in-another', 'another')).GroupName).toBe('another');
    expect(again.name).toBe('ConflictException');
    expect(again.$metadata.httpStatusCode).toBe(409);
  });

  it('answers a CreateSchedule repeated with its ClientToken as the first (a retry), not ConflictException', async () => {
    const input = { ...oneTime('retried', '2030-06-01T12:00:00'), ClientToken: 'token-1' };

    const first = await create(input);
    const retry = await create(input);
    const another = await failure(create({ ...input, ClientToken: 'token-2' }));

    expect(retry.ScheduleArn).toBe(first.ScheduleArn);
    expect(another.name).toBe('ConflictException');
  });
});

describe('Sandbox Scheduler: AWS’s errors', () => {
  it('ConflictException on a create of a name the group holds (409)', async () => {
    await create(oneTime('twice', '2030-06-01T12:00:00'));

    const error = await failure(create(oneTime('twice', '2030-07-01T12:00:00')));

    expect(error.name).toBe('ConflictException');
    expect(error.$metadata.httpStatusCode).toBe(409);
    expect(error.message).toBe('Schedule twice already exists.');
  });

  it('ResourceNotFoundException on a get, update or delete of a missing schedule, and in a missing group', async () => {
    const update = failure(
      scheduler.send(new UpdateScheduleCommand({ ...oneTime('missing', '2030-06-01T12:00:00') })),
    );
    const errors = await Promise.all([
      failure(get('missing')),
      update,
      failure(scheduler.send(new DeleteScheduleCommand({ Name: 'missing', GroupName: GROUP }))),
      failure(create({ ...oneTime('x', '2030-06-01T12:00:00'), GroupName: 'no-such-group' })),
      failure(get('x', 'no-such-group')),
    ]);

    expect(errors.map((error) => [error.name, error.$metadata.httpStatusCode])).toEqual(
      Array(5).fill(['ResourceNotFoundException', 404]),
    );
    expect(errors.map((error) => error.message)).toEqual([
      'Schedule missing does not exist.',
      'Schedule missing does not exist.',
      'Schedule missing does not exist.',
      'Schedule group no-such-group does not exist.',
      'Schedule group no-such-group does not exist.',
    ]);
  });

  it.each([
    [
      'a name with a space',
      { Name: 'my schedule' },
      "1 validation error detected: Value 'my schedule' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$",
    ],
    [
      'a name of 65 characters',
      { Name: 'n'.repeat(65) },
      `1 validation error detected: Value '${'n'.repeat(65)}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 64`,
    ],
    [
      'no FlexibleTimeWindow',
      { FlexibleTimeWindow: undefined },
      "1 validation error detected: Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null",
    ],
    [
      'an unknown ActionAfterCompletion',
      { ActionAfterCompletion: 'ARCHIVE' as never },
      "1 validation error detected: Value 'ARCHIVE' at 'actionAfterCompletion' failed to satisfy constraint: Member must satisfy enum value set: [NONE, DELETE]",
    ],
    [
      'two bad fields at once',
      { State: 'ON' as never, FlexibleTimeWindow: { Mode: 'SOMETIMES' as never } },
      "2 validation errors detected: Value 'ON' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]; Value 'SOMETIMES' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]",
    ],
    [
      'a retry policy out of range',
      {
        Target: {
          Arn: TARGET_ARN,
          RoleArn: ROLE_ARN,
          RetryPolicy: { MaximumRetryAttempts: 186, MaximumEventAgeInSeconds: 59 },
        },
      },
      "2 validation errors detected: Value '59' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60; Value '186' at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185",
    ],
    [
      'a role that is not an IAM role ARN',
      { Target: { Arn: TARGET_ARN, RoleArn: 'scheduler-role' } },
      "1 validation error detected: Value 'scheduler-role' at 'target.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$",
    ],
    [
      'an at() on a day that does not exist',
      { ScheduleExpression: 'at(2030-02-30T12:00:00)' },
      'Invalid Schedule Expression at(2030-02-30T12:00:00)',
    ],
    [
      'an at() without seconds',
      { ScheduleExpression: 'at(2030-06-01T12:00)' },
      'Invalid Schedule Expression at(2030-06-01T12:00)',
    ],
    [
      'an at() with a zone offset',
      { ScheduleExpression: 'at(2030-06-01T12:00:00Z)' },
      'Invalid Schedule Expression at(2030-06-01T12:00:00Z)',
    ],
    [
      'a rate in seconds',
      { ScheduleExpression: 'rate(30 seconds)' },
      'Invalid Schedule Expression rate(30 seconds)',
    ],
    [
      'a cron of five fields',
      { ScheduleExpression: 'cron(0 12 * * ?)' },
      'Invalid Schedule Expression cron(0 12 * * ?)',
    ],
    [
      'a cron with both day fields',
      { ScheduleExpression: 'cron(0 12 1 * MON *)' },
      'Invalid Schedule Expression cron(0 12 1 * MON *)',
    ],
    [
      'a time zone that is not one',
      { ScheduleExpressionTimezone: 'Mars/Olympus_Mons' },
      "Invalid ScheduleExpressionTimezone Mars/Olympus_Mons (the sandbox's wording)",
    ],
    [
      'a UTC offset for a time zone',
      { ScheduleExpressionTimezone: '+02:00' },
      "Invalid ScheduleExpressionTimezone +02:00 (the sandbox's wording)",
    ],
  ])('ValidationException (400) for %s', async (_, change, message) => {
    const error = await failure(
      create({ ...oneTime('valid-name', '2030-06-01T12:00:00'), ...change }),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(message);
  });

  it.each([
    'rate(5 minutes)',
    'rate(1 day)',
    'cron(0 8 * * ? *)',
    'cron(15,45 6-18/2 ? * MON-FRI 2030)',
    'cron(0 0 L * ? *)',
  ])('takes the recurring expression %s (kept, not fired)', async (expression) => {
    await create({
      ...oneTime('recurring', '2030-06-01T12:00:00'),
      ScheduleExpression: expression,
    });

    expect((await get('recurring')).ScheduleExpression).toBe(expression);
  });

  it('answers only requests signed with its credentials, for the scheduler service', async () => {
    const stranger = new SchedulerClient({
      endpoint: ctx.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIASOMEONEELSE00000', secretAccessKey: 'x'.repeat(40) },
      maxAttempts: 1,
    });
    const wrongService = new SchedulerClient({
      endpoint: ctx.url,
      region: 'us-east-1',
      credentials: ctx.sandbox.awsCredentials,
      maxAttempts: 1,
      // Signs for another service than Scheduler's.
      signingName: 'lambda',
    } as unknown as SchedulerClientConfig);

    const refused = await failure(stranger.send(new ListSchedulesCommand({})));
    const misScoped = await failure(wrongService.send(new ListSchedulesCommand({})));
    const unsigned = await fetch(`${ctx.url}/schedules`);
    stranger.destroy();
    wrongService.destroy();

    expect(refused.name).toBe('UnrecognizedClientException');
    expect(refused.$metadata.httpStatusCode).toBe(403);
    expect(misScoped.name).toBe('InvalidSignatureException');
    expect(misScoped.message).toBe("Credential should be scoped to correct service: 'scheduler'.");
    expect(unsigned.status).toBe(400);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });
});

// ---- the clock ---------------------------------------------------------------------------

describe('Sandbox Scheduler: firing one-time schedules', () => {
  it('fires a due at() schedule once, into the Lambda endpoint, asynchronously, then deletes it', async () => {
    const input = oneTime('ovr-1-start', '2030-06-01T12:00:00');
    await create(input);

    const early = await tick('2030-06-01T11:59:59.999Z');
    const due = await tick('2030-06-01T12:00:00Z');
    const again = await tick('2030-06-01T12:00:30Z');
    const gone = await failure(get('ovr-1-start'));

    expect(early).toEqual([]);
    expect(due).toHaveLength(1);
    expect(again).toEqual([]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: 'POST',
      url: `/2015-03-31/functions/${FUNCTION}/invocations`,
      body: input.Target?.Input,
    });
    expect(received[0]?.headers['x-amz-invocation-type']).toBe('Event');
    expect(gone.name).toBe('ResourceNotFoundException');
    expect(await fired()).toEqual([
      expect.objectContaining({
        schedule: 'ovr-1-start',
        group: GROUP,
        due_at: '2030-06-01T12:00:00.000Z',
        fired_at: '2030-06-01T12:00:00.000Z',
        function: FUNCTION,
        input: input.Target?.Input,
        outcome: 'delivered',
        attempts: [{ at: '2030-06-01T12:00:00.000Z', status: 202 }],
        deleted: true,
      }),
    ]);
  });

  it('puts the context attributes into the Input, as Scheduler does', async () => {
    await create(
      oneTime('ovr-context', '2030-06-01T12:00:00', {
        Target: {
          ...oneTime('x', '2030-06-01T12:00:00').Target,
          Arn: TARGET_ARN,
          RoleArn: ROLE_ARN,
          Input: JSON.stringify({
            arn: '<aws.scheduler.schedule-arn>',
            scheduled_time: '<aws.scheduler.scheduled-time>',
            execution_id: '<aws.scheduler.execution-id>',
            attempt: '<aws.scheduler.attempt-number>',
          }),
        },
      }),
    );

    await tick('2030-06-01T12:00:00.500Z');

    const payload = JSON.parse(received[0]?.body ?? '{}');
    expect(payload).toEqual({
      arn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${GROUP}/ovr-context`,
      scheduled_time: '2030-06-01T12:00:00Z',
      execution_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      attempt: '1',
    });
  });

  it('fires an at() in Europe/Berlin at its UTC instant, summer and winter', async () => {
    const berlin = { ScheduleExpressionTimezone: 'Europe/Berlin' };
    await create(oneTime('summer', '2030-07-01T12:00:00', berlin));
    await create(oneTime('winter', '2030-01-15T12:00:00', berlin));
    const { schedules } = await control<{ schedules: { name: string; next_fire_at: string }[] }>(
      ctx.url,
      'GET',
      '/scheduler/schedules',
    );

    const beforeWinter = await tick('2030-01-15T10:59:59Z');
    const atWinter = await tick('2030-01-15T11:00:00Z');
    const beforeSummer = await tick('2030-07-01T09:59:59Z');
    const atSummer = await tick('2030-07-01T10:00:00Z');

    expect(schedules.map((each) => [each.name, each.next_fire_at])).toEqual([
      ['summer', '2030-07-01T10:00:00.000Z'],
      ['winter', '2030-01-15T11:00:00.000Z'],
    ]);
    expect([beforeWinter, beforeSummer]).toEqual([[], []]);
    expect(atWinter.map((each) => [each.schedule, each.due_at])).toEqual([
      ['winter', '2030-01-15T11:00:00.000Z'],
    ]);
    expect(atSummer.map((each) => [each.schedule, each.due_at])).toEqual([
      ['summer', '2030-07-01T10:00:00.000Z'],
    ]);
    expect(received).toHaveLength(2);
  });

  it('reads a wall-clock time in the hour a zone skips or repeats as java.time does', () => {
    const wall = (text: string) => Date.parse(`${text}Z`);
    // 2030-03-31 02:30 does not exist in Berlin (02:00 → 03:00): 03:30 CEST, 01:30Z.
    expect(new Date(wallTimeToInstant(wall('2030-03-31T02:30:00'), 'Europe/Berlin'))).toEqual(
      new Date('2030-03-31T01:30:00Z'),
    );
    // 2030-10-27 02:30 happens twice (03:00 → 02:00): the first, 02:30 CEST, 00:30Z.
    expect(new Date(wallTimeToInstant(wall('2030-10-27T02:30:00'), 'Europe/Berlin'))).toEqual(
      new Date('2030-10-27T00:30:00Z'),
    );
    expect(new Date(wallTimeToInstant(wall('2030-06-01T12:00:00'), 'America/New_York'))).toEqual(
      new Date('2030-06-01T16:00:00Z'),
    );
  });

  it('retries a failed invoke with backoff (1 s, 2 s, …) and delivers it once the endpoint takes it', async () => {
    answers = [500, 503];
    await create(oneTime('flaky', '2030-06-01T12:00:00'));
    const at = (seconds: number) => Date.parse('2030-06-01T12:00:00Z') + seconds * 1000;

    await tick(at(0));
    await tick(at(0.5));
    const beforeDelivery = await get('flaky');
    await tick(at(1));
    await tick(at(2.9));
    await tick(at(3));
    await tick(at(10));

    expect(beforeDelivery.Name).toBe('flaky');
    expect(received.map((each) => each.body)).toEqual(Array(3).fill(received[0]?.body));
    const [record] = await fired();
    expect(record?.attempts).toEqual([
      { at: '2030-06-01T12:00:00.000Z', status: 500 },
      { at: '2030-06-01T12:00:01.000Z', status: 503 },
      { at: '2030-06-01T12:00:03.000Z', status: 202 },
    ]);
    expect(record).toMatchObject({ outcome: 'delivered', deleted: true });
    await expect(failure(get('flaky'))).resolves.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('drops an invoke after MaximumRetryAttempts, records it, and deletes the schedule', async () => {
    answers = Array(10).fill(500);
    await create(
      oneTime('down', '2030-06-01T12:00:00', {
        Target: {
          Arn: TARGET_ARN,
          RoleArn: ROLE_ARN,
          Input: '{}',
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        },
      }),
    );
    const start = Date.parse('2030-06-01T12:00:00Z');

    for (let second = 0; second <= 20; second++) await tick(start + second * 1000);

    const [record] = await fired();
    expect(received).toHaveLength(3);
    expect(record).toMatchObject({
      outcome: 'dropped',
      reason: 'MaximumRetryAttempts (2) reached. Dead-letter queues are not emulated.',
      deleted: true,
    });
  });

  it('drops an invoke once MaximumEventAgeInSeconds would pass, and one the endpoint refuses (4xx) at once', async () => {
    answers = Array(20).fill(503);
    const oneMinute = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 };
    await create(
      oneTime('old', '2030-06-01T12:00:00', {
        Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN, Input: '{}', RetryPolicy: oneMinute },
      }),
    );
    const start = Date.parse('2030-06-01T12:00:00Z');
    for (let second = 0; second <= 120; second++) await tick(start + second * 1000);
    const [aged] = await fired();

    answers = [404];
    await create(oneTime('refused', '2030-06-01T13:00:00'));
    await tick('2030-06-01T13:00:00Z');
    await tick('2030-06-01T13:00:10Z');
    const refused = (await fired())[1];

    // Attempts at 0, 1, 3, 7, 15, 31 s; the next (63 s) would be past 60 s.
    expect(aged?.attempts.map((each) => each.at.slice(14, 19))).toEqual([
      '00:00',
      '00:01',
      '00:03',
      '00:07',
      '00:15',
      '00:31',
    ]);
    expect(aged?.outcome).toBe('dropped');
    expect(aged?.reason).toContain('MaximumEventAgeInSeconds (60)');
    expect(refused?.attempts).toEqual([{ at: '2030-06-01T13:00:00.000Z', status: 404 }]);
    expect(refused?.outcome).toBe('dropped');
  });

  it('retries when the endpoint cannot be reached', async () => {
    const down = await startSandbox({
      rateLimit: false,
      scheduler: { tickMs: false, lambdaUrl: 'http://127.0.0.1:9', groups: [GROUP] },
    });
    try {
      const client = new SchedulerClient({
        endpoint: down.url,
        region: 'us-east-1',
        credentials: down.awsCredentials,
      });
      await client.send(new CreateScheduleCommand(oneTime('unreachable', '2030-06-01T12:00:00')));
      client.destroy();

      await down.scheduler.tick(Date.parse('2030-06-01T12:00:00Z'));
      await down.scheduler.tick(Date.parse('2030-06-01T12:00:01Z'));

      expect(down.scheduler.fired[0]?.attempts).toEqual([
        { at: '2030-06-01T12:00:00.000Z', error: expect.any(String) },
        { at: '2030-06-01T12:00:01.000Z', error: expect.any(String) },
      ]);
      expect(down.scheduler.fired[0]?.outcome).toBe('pending');
    } finally {
      await down.close();
    }
  });

  it('with ActionAfterCompletion NONE keeps the schedule, ENABLED, and fires it again only once moved', async () => {
    await create(oneTime('kept', '2030-06-01T12:00:00', { ActionAfterCompletion: 'NONE' }));

    await tick('2030-06-01T12:00:00Z');
    await tick('2030-06-01T12:05:00Z');
    const kept = await get('kept');
    const view = await control<{ schedules: { name: string; next_fire_at: unknown }[] }>(
      ctx.url,
      'GET',
      '/scheduler/schedules',
    );
    await scheduler.send(
      new UpdateScheduleCommand({
        ...oneTime('kept', '2030-06-01T13:00:00'),
        ActionAfterCompletion: 'NONE',
      }),
    );
    await tick('2030-06-01T13:00:00Z');

    expect(kept.State).toBe('ENABLED');
    expect(view.schedules).toEqual([expect.objectContaining({ name: 'kept', next_fire_at: null })]);
    expect(received).toHaveLength(2);
    expect((await fired()).map((each) => each.deleted)).toEqual([false, false]);
  });

  it('does not fire a DISABLED schedule, nor a recurring one', async () => {
    await create({ ...oneTime('off', '2030-06-01T12:00:00'), State: 'DISABLED' });
    await create({
      ...oneTime('every-minute', '2030-06-01T12:00:00'),
      ScheduleExpression: 'rate(1 minute)',
    });

    await tick('2030-06-02T00:00:00Z');

    expect(received).toEqual([]);
    expect(await fired()).toEqual([]);
  });

  it('records, without invoking, a target that is not a Lambda function', async () => {
    await create(
      oneTime('to-sqs', '2030-06-01T12:00:00', {
        Target: { Arn: 'arn:aws:sqs:us-east-1:123456789012:queue', RoleArn: ROLE_ARN },
      }),
    );

    await tick('2030-06-01T12:00:00Z');

    expect(received).toEqual([]);
    expect(await fired()).toEqual([
      expect.objectContaining({ function: null, outcome: 'not_delivered', deleted: true }),
    ]);
  });

  it('without a Lambda endpoint, records a due schedule as fired and deletes it (DELETE)', async () => {
    const alone = await startSandbox({ rateLimit: false, scheduler: { tickMs: false } });
    try {
      const client = new SchedulerClient({
        endpoint: alone.url,
        region: 'us-east-1',
        credentials: alone.awsCredentials,
      });
      await client.send(
        new CreateScheduleCommand({
          ...oneTime('no-endpoint', '2030-06-01T12:00:00'),
          GroupName: undefined,
        }),
      );

      await alone.scheduler.tick(Date.parse('2030-06-01T12:00:00Z'));
      const gone = await client
        .send(new GetScheduleCommand({ Name: 'no-endpoint' }))
        .catch((error: Error) => error.name);
      client.destroy();

      expect(alone.scheduler.fired).toEqual([
        expect.objectContaining({ function: FUNCTION, outcome: 'recorded', deleted: true }),
      ]);
      expect(gone).toBe('ResourceNotFoundException');
    } finally {
      await alone.close();
    }
  });

  it('runs its own clock: a due schedule fires within a tick, with no one calling tick()', async () => {
    const clocked = await startSandbox({
      rateLimit: false,
      scheduler: { tickMs: 50, lambdaUrl: options.scheduler?.lambdaUrl },
    });
    try {
      const client = new SchedulerClient({
        endpoint: clocked.url,
        region: 'us-east-1',
        credentials: clocked.awsCredentials,
      });
      // Now, to the second (an at() has no fractions): due at once.
      const now = new Date().toISOString().slice(0, 19);
      await client.send(
        new CreateScheduleCommand({ ...oneTime('now', now), GroupName: undefined }),
      );
      client.destroy();

      const until = Date.now() + 5000;
      while (clocked.scheduler.fired[0]?.outcome !== 'delivered' && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      expect(clocked.scheduler.fired).toEqual([
        expect.objectContaining({ schedule: 'now', outcome: 'delivered', deleted: true }),
      ]);
      expect(received).toHaveLength(1);
    } finally {
      await clocked.close();
    }
  });
});

describe('Sandbox Scheduler: the control surface', () => {
  it('lists what it holds, fires on POST /_sandbox/scheduler/tick, and forgets it all on reset (groups stay)', async () => {
    await create(
      oneTime('held', '2030-06-01T12:00:00', { ScheduleExpressionTimezone: 'Asia/Tokyo' }),
    );
    const held = await control<{ schedules: Record<string, unknown>[] }>(
      ctx.url,
      'GET',
      '/scheduler/schedules',
    );

    const ticked = await control<{ fired: FiredRecord[] }>(ctx.url, 'POST', '/scheduler/tick', {
      at: '2030-06-01T03:00:00Z',
    });
    await create(oneTime('left', '2030-06-01T12:00:00'));
    await control(ctx.url, 'POST', '/reset');
    const after = await control<{ schedules: unknown[] }>(ctx.url, 'GET', '/scheduler/schedules');

    expect(held.schedules).toEqual([
      {
        group: GROUP,
        name: 'held',
        arn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${GROUP}/held`,
        schedule_expression: 'at(2030-06-01T12:00:00)',
        timezone: 'Asia/Tokyo',
        state: 'ENABLED',
        action_after_completion: 'DELETE',
        target: expect.objectContaining({ Arn: TARGET_ARN }),
        next_fire_at: '2030-06-01T03:00:00.000Z',
        fired: false,
      },
    ]);
    expect(ticked.fired).toEqual([
      expect.objectContaining({ schedule: 'held', outcome: 'delivered' }),
    ]);
    expect(after.schedules).toEqual([]);
    expect(await fired()).toEqual([]);
    // The group made at start is still there.
    await create(oneTime('after-reset', '2030-06-01T12:00:00'));
  });
});
