/**
 * The pure parts of overrides: when one holds from what its caller asked (every refusal, at the
 * bounds), and where its one-time schedules go and when they fire.
 */
import { atExpression, scheduleName, scheduleTarget } from '../../lib/overrides/schedules.ts';
import { overrideWindow } from '../../lib/overrides/window.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.parse('2027-03-28T00:30:00Z');

describe('overrideWindow', () => {
  it('starts now by default and ends after its duration, or at its instant', () => {
    expect(overrideWindow({ durationMs: 2 * HOUR }, NOW, 24)).toEqual({
      starts_at: NOW,
      expires_at: NOW + 2 * HOUR,
    });
    expect(overrideWindow({ until: NOW + HOUR }, NOW, 24)).toEqual({
      starts_at: NOW,
      expires_at: NOW + HOUR,
    });
  });

  it('takes a start less than a minute in the past as now; refuses one further back', () => {
    expect(overrideWindow({ startsAt: NOW - 59_000, durationMs: HOUR }, NOW, 24)).toEqual({
      starts_at: NOW,
      expires_at: NOW + HOUR,
    });
    expect(overrideWindow({ startsAt: NOW - 61_000, durationMs: HOUR }, NOW, 24)).toMatchObject({
      field: 'starts_at',
      invalid: expect.stringContaining('in the past'),
    });
  });

  it('plans up to 30 days ahead, not a millisecond more', () => {
    expect(overrideWindow({ startsAt: NOW + 30 * DAY, durationMs: HOUR }, NOW, 24)).toEqual({
      starts_at: NOW + 30 * DAY,
      expires_at: NOW + 30 * DAY + HOUR,
    });
    expect(
      overrideWindow({ startsAt: NOW + 30 * DAY + 1, durationMs: HOUR }, NOW, 24),
    ).toMatchObject({ field: 'starts_at', invalid: expect.stringContaining('30 days') });
  });

  it('lasts from 1 minute to the maximum, both included', () => {
    expect(overrideWindow({ durationMs: MINUTE }, NOW, 24)).toMatchObject({
      expires_at: NOW + MINUTE,
    });
    expect(overrideWindow({ durationMs: MINUTE - 1 }, NOW, 24)).toMatchObject({
      field: 'duration',
      invalid: expect.stringContaining('at least 1 minute'),
    });
    expect(overrideWindow({ durationMs: 24 * HOUR }, NOW, 24)).toMatchObject({
      expires_at: NOW + 24 * HOUR,
    });
    expect(overrideWindow({ durationMs: 24 * HOUR + 1 }, NOW, 24)).toMatchObject({
      field: 'duration',
      invalid: expect.stringContaining('maximum of 24 hours'),
    });
    expect(overrideWindow({ durationMs: 48 * HOUR }, NOW, 48)).toMatchObject({
      expires_at: NOW + 48 * HOUR,
    });
  });

  it('refuses an end in the past, and one before a planned start', () => {
    expect(overrideWindow({ until: NOW - 1 }, NOW, 24)).toMatchObject({
      field: 'until',
      invalid: expect.stringContaining('in the past'),
    });
    expect(overrideWindow({ startsAt: NOW + 2 * HOUR, until: NOW + HOUR }, NOW, 24)).toMatchObject({
      field: 'until',
      invalid: expect.stringContaining('no time'),
    });
  });

  it('measures a length in absolute time: a night of daylight saving changes nothing', () => {
    // 2027-03-28 01:00 UTC: Europe clocks jump from 02:00 to 03:00; two hours stay two hours.
    const window = overrideWindow({ durationMs: 2 * HOUR }, NOW, 24);
    expect(window).toEqual({ starts_at: NOW, expires_at: Date.parse('2027-03-28T02:30:00Z') });
  });
});

describe('the override schedules', () => {
  it('are named for the stream and the key, at most 64 characters of what Scheduler allows', () => {
    const stream = 'es_2SandboxSampleEventStream00';
    const manual = scheduleName({ stream_id: stream, key: 'manual' }, 'end');
    const alert = scheduleName(
      { stream_id: stream, key: `alertmanager:${'x'.repeat(300)}` },
      'start',
    );

    expect(manual).toMatch(/^override-es_2SandboxSampleEventStream00-[0-9a-f]{10}-end$/);
    expect(alert).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    expect(scheduleName({ stream_id: stream, key: 'manual' }, 'start')).not.toBe(manual);
    expect(scheduleName({ stream_id: stream, key: 'other' }, 'end')).not.toBe(manual);
  });

  it('fire at the second at or after the instant, never before', () => {
    expect(atExpression(Date.parse('2027-03-28T02:30:00.000Z'))).toBe('at(2027-03-28T02:30:00)');
    expect(atExpression(Date.parse('2027-03-28T02:30:00.001Z'))).toBe('at(2027-03-28T02:30:01)');
  });

  it('target the sampling function in the invoking function’s partition, region and account', () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      SAMPLING_SCHEDULE_GROUP: 'svc-prod-sampling',
      SAMPLING_FUNCTION: 'svc-prod-applySamplingSchedule',
      SAMPLING_SCHEDULER_ROLE: 'svc-prod-sampling-scheduler',
      SAMPLING_DEAD_LETTER_QUEUE: 'svc-prod-sampling-failed',
      AWS_REGION: 'us-east-1',
    });
    try {
      expect(
        scheduleTarget(
          'arn:aws-cn:lambda:cn-north-1:123456789012:function:svc-prod-setSamplingOverride',
        ),
      ).toEqual({
        group: 'svc-prod-sampling',
        functionArn:
          'arn:aws-cn:lambda:cn-north-1:123456789012:function:svc-prod-applySamplingSchedule',
        roleArn: 'arn:aws-cn:iam::123456789012:role/svc-prod-sampling-scheduler',
        deadLetterArn: 'arn:aws-cn:sqs:cn-north-1:123456789012:svc-prod-sampling-failed',
      });
      // serverless offline names no real ARN: the sandbox's account, in AWS_REGION.
      expect(scheduleTarget('offline_invokedFunctionArn_for_x').functionArn).toBe(
        'arn:aws:lambda:us-east-1:000000000000:function:svc-prod-applySamplingSchedule',
      );
    } finally {
      process.env = saved;
    }
  });
});
