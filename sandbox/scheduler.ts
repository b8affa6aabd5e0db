/**
 * Amazon EventBridge Scheduler, enough for the real `@aws-sdk/client-scheduler` (pointed here with
 * `AWS_ENDPOINT_URL_SCHEDULER`) and the AWS CLI to keep one-time schedules in the sandbox — and for
 * the sandbox to fire them. Written from the EventBridge Scheduler API reference (2021-06-30) and
 * its service model: REST JSON, SigV4 with the signing name `scheduler`;
 *
 * - `POST /schedules/{Name}` CreateSchedule, `PUT /schedules/{Name}` UpdateSchedule (a whole
 *   replacement: what is left out takes its default again, as the reference says),
 *   `GET /schedules/{Name}?groupName=` GetSchedule, `DELETE /schedules/{Name}?groupName=&clientToken=`
 *   DeleteSchedule, `GET /schedules?ScheduleGroup=&NamePrefix=&State=&MaxResults=&NextToken=`
 *   ListSchedules;
 * - `POST /schedule-groups/{Name}`, `GET /schedule-groups/{Name}`, `GET /schedule-groups`,
 *   `DELETE /schedule-groups/{Name}`: schedule groups. `default` always exists; a schedule's group
 *   must exist (CreateSchedule in another answers ResourceNotFoundException), as on AWS;
 * - errors as the SDK reads them: the error's name in `x-amzn-ErrorType`, `{"Message": …}`, and the
 *   status of its model (ValidationException 400, ResourceNotFoundException 404,
 *   ConflictException 409). Constraint violations in AWS's words ("1 validation error detected:
 *   Value 'x' at 'name' failed to satisfy constraint: Member must satisfy regular expression
 *   pattern: ^[0-9a-zA-Z-_.]+$"); an expression AWS would not take as "Invalid Schedule
 *   Expression <expression>". Where the reference gives no wording, the message is the sandbox's;
 * - ClientToken: a CreateSchedule or DeleteSchedule repeated with the token of one that succeeded
 *   answers as that one did (the SDK sends one token for a call and all its retries).
 *
 * Firing (`tick`): an ENABLED schedule whose `at()` time has come in its time zone is fired once:
 * its Lambda target is invoked asynchronously (`X-Amz-Invocation-Type: Event`, the schedule's
 * `Input` as the payload) at the configured Lambda endpoint, a failed invoke retried per its
 * RetryPolicy with exponential backoff, then dropped; once delivered (or dropped), a schedule with
 * `ActionAfterCompletion: DELETE` is deleted, one with NONE stays as it is (ENABLED) and never
 * fires again unless updated. Recurring schedules (`rate()`, `cron()`) are validated and kept, not
 * fired; dead-letter queues are not emulated (a dropped invoke is recorded, nothing is sent to the
 * queue); FlexibleTimeWindow FLEXIBLE fires at the window's start. The sandbox imports nothing from
 * `lib/`.
 */
import { randomUUID } from 'node:crypto';
import type { AwsResponse } from './secrets-manager.ts';

const JSON_TYPE = 'application/json';
const ACCOUNT_ID = '000000000000';
export const DEFAULT_GROUP = 'default';

const NAME_PATTERN = '^[0-9a-zA-Z-_.]+$';
const CLIENT_TOKEN_PATTERN = '^[a-zA-Z0-9-_]+$';
const ROLE_ARN_PATTERN = '^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$';
const SQS_ARN_PATTERN = '^arn:aws(-[a-z]+)?:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$';
const KMS_ARN_PATTERN = '^arn:aws(-[a-z]+)?:kms:[a-z0-9\\-]+:\\d{12}:(key|alias)\\/[0-9a-zA-Z-_]*$';
/** What AWS sets when a target has no RetryPolicy (GetSchedule shows it). */
const DEFAULT_RETRY_POLICY = { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 };
/** How many ClientTokens (with their answers) are remembered. */
const MAX_TOKENS = 10_000;
/** How long one invoke may take before it counts as failed. */
const INVOKE_TIMEOUT_MS = 10_000;

class SchedulerError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, status: number, message: string) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

const validationError = (message: string) =>
  new SchedulerError('ValidationException', 400, message);
const notFound = (message: string) => new SchedulerError('ResourceNotFoundException', 404, message);
const conflict = (message: string) => new SchedulerError('ConflictException', 409, message);

// ---- expressions and time zones -----------------------------------------------------------

/** A schedule expression, parsed: a one-time one's wall-clock time, as ms "as if UTC". */
export type ScheduleExpression = { kind: 'at'; wall: number } | { kind: 'rate' } | { kind: 'cron' };

const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RATE = /^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$/;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/**
 * One cron field: `*`, or a list of values, ranges (`a-b`) and increments (`a/n`, `*\/n`,
 * `a-b/n`) within `[min, max]`, by number or by `names` (JAN–DEC, SUN–SAT).
 */
function cronField(text: string, min: number, max: number, names: string[] = []): boolean {
  const value = (part: string) => {
    const index = names.indexOf(part.toUpperCase());
    const number = index >= 0 ? index + min : /^\d+$/.test(part) ? Number(part) : Number.NaN;
    return number >= min && number <= max;
  };
  return text.split(',').every((item) => {
    const [range = '', step, ...rest] = item.split('/');
    if (rest.length > 0 || (step !== undefined && !/^[1-9]\d*$/.test(step))) return false;
    if (range === '*') return true;
    const [from = '', to, ...more] = range.split('-');
    if (more.length > 0) return false;
    return value(from) && (to === undefined || value(to));
  });
}

/**
 * A cron expression of six fields (minutes hours day-of-month month day-of-week year), with `?` in
 * exactly one of the two day fields, as EventBridge Scheduler's "Cron expressions" describe them.
 */
function isCron(fields: string): boolean {
  const parts = fields.split(' ');
  if (parts.length !== 6) return false;
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) return false;
  const dayOfMonthOk =
    dayOfMonth === '?' || /^(L|LW|([1-9]|[12]\d|3[01])W)$/.test(dayOfMonth)
      ? true
      : cronField(dayOfMonth, 1, 31);
  const dayOfWeekOk =
    dayOfWeek === '?' || /^(L|[1-7]L|[1-7]#[1-5])$/.test(dayOfWeek)
      ? true
      : cronField(dayOfWeek, 1, 7, DAYS);
  return (
    cronField(minutes, 0, 59) &&
    cronField(hours, 0, 23) &&
    dayOfMonthOk &&
    cronField(month, 1, 12, MONTHS) &&
    dayOfWeekOk &&
    cronField(year, 1970, 2199)
  );
}

/** `at(yyyy-mm-ddThh:mm:ss)` (a real calendar date), `rate(n unit)` or `cron(six fields)`. */
export function parseScheduleExpression(text: string): ScheduleExpression | undefined {
  const at = AT.exec(text);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as number[];
    const wall = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second);
    const back = new Date(wall);
    const real =
      back.getUTCFullYear() === year &&
      back.getUTCMonth() === (month as number) - 1 &&
      back.getUTCDate() === day &&
      (hour as number) < 24 &&
      (minute as number) < 60 &&
      (second as number) < 60;
    return real ? { kind: 'at', wall } : undefined;
  }
  if (RATE.test(text)) return { kind: 'rate' };
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron && isCron(cron[1] as string)) return { kind: 'cron' };
  return undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/**
 * Whether AWS would take this as a ScheduleExpressionTimezone: an IANA time zone name (`UTC`,
 * `Europe/Berlin`, an alias such as `US/Eastern`), spelled with its own capitals; not an offset.
 */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  let canonical: string;
  try {
    canonical = formatter(name).resolvedOptions().timeZone;
  } catch {
    formatters.delete(name);
    return false;
  }
  // Intl takes `europe/berlin`; a zone's own name is case-sensitive.
  return canonical === name || canonical.toLowerCase() !== name.toLowerCase();
}

/** The time zone's offset from UTC at an instant, in ms. */
function offsetAt(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(instant))
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<string, number>;
  const asUtc = Date.UTC(
    parts.year as number,
    (parts.month as number) - 1,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  );
  return asUtc - (instant - (instant % 1000));
}

/**
 * The instant a wall-clock time names in a time zone. Twice in the autumn's repeated hour: the
 * first; never in the spring's skipped hour: then the time as many minutes later as the gap is
 * long (java.time's rule; what AWS does with an `at()` in a gap, its documentation does not say).
 */
export function wallTimeToInstant(wall: number, timeZone: string): number {
  const DAY = 86_400_000;
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [...new Set([before, after])]
    .map((offset) => wall - offset)
    .filter((instant) => instant + offsetAt(instant, timeZone) === wall)
    .sort((a, b) => a - b);
  return candidates[0] ?? wall - before;
}

// ---- request validation, in AWS's words ---------------------------------------------------

type Json = Record<string, unknown>;

/** Collects constraint violations as AWS words them, and throws them together. */
class Constraints {
  readonly errors: string[] = [];

  private add(member: string, value: unknown, rule: string): void {
    const shown = value === undefined || value === null ? 'null' : `'${String(value)}'`;
    this.errors.push(`Value ${shown} at '${member}' failed to satisfy constraint: Member ${rule}`);
  }

  required(member: string, value: unknown): boolean {
    if (value !== undefined && value !== null) return true;
    this.add(member, value, 'must not be null');
    return false;
  }

  string(
    member: string,
    value: unknown,
    rules: { min?: number; max?: number; pattern?: string; values?: string[] },
  ): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') {
      throw new SchedulerError(
        'SerializationException',
        400,
        `'${member}' must be a string (the sandbox's wording)`,
      );
    }
    if (rules.values && !rules.values.includes(value)) {
      this.add(member, value, `must satisfy enum value set: [${rules.values.join(', ')}]`);
    }
    if (rules.pattern && !new RegExp(rules.pattern).test(value)) {
      this.add(member, value, `must satisfy regular expression pattern: ${rules.pattern}`);
    }
    if (rules.min !== undefined && value.length < rules.min) {
      this.add(member, value, `must have length greater than or equal to ${rules.min}`);
    }
    if (rules.max !== undefined && value.length > rules.max) {
      this.add(member, value, `must have length less than or equal to ${rules.max}`);
    }
  }

  integer(member: string, value: unknown, min: number, max: number): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new SchedulerError(
        'SerializationException',
        400,
        `'${member}' must be an integer (the sandbox's wording)`,
      );
    }
    if (value < min) this.add(member, value, `must have value greater than or equal to ${min}`);
    if (value > max) this.add(member, value, `must have value less than or equal to ${max}`);
  }

  object(member: string, value: unknown): Json | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new SchedulerError(
        'SerializationException',
        400,
        `'${member}' must be an object (the sandbox's wording)`,
      );
    }
    return value as Json;
  }

  timestamp(member: string, value: unknown): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new SchedulerError(
        'SerializationException',
        400,
        `'${member}' must be a timestamp in seconds (the sandbox's wording)`,
      );
    }
  }

  /** "1 validation error detected: …", or "2 validation errors detected: …; …". */
  throwIfAny(): void {
    const count = this.errors.length;
    if (count === 0) return;
    throw validationError(
      `${count} validation error${count === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`,
    );
  }
}

function checkName(constraints: Constraints, member: string, value: unknown): void {
  constraints.string(member, value, { min: 1, max: 64, pattern: NAME_PATTERN });
}

// ---- the store ----------------------------------------------------------------------------

interface Schedule {
  name: string;
  group: string;
  arn: string;
  expression: string;
  parsed: ScheduleExpression;
  timezone: string;
  startDate?: number;
  endDate?: number;
  description?: string;
  state: 'ENABLED' | 'DISABLED';
  kmsKeyArn?: string;
  target: Json;
  flexibleTimeWindow: Json;
  actionAfterCompletion: 'NONE' | 'DELETE';
  creationDate: number;
  lastModificationDate: number;
  /** Counts updates: a delivery finishing for an older version deletes nothing. */
  version: number;
  /** A one-time schedule that has fired: it does not fire again unless updated. */
  fired: boolean;
}

interface Group {
  name: string;
  arn: string;
  creationDate?: number;
  lastModificationDate?: number;
}

/** One firing of a schedule, and what became of it (GET /_sandbox/scheduler/fired). */
export interface FiredRecord {
  schedule: string;
  group: string;
  arn: string;
  schedule_expression: string;
  timezone: string;
  /** When it was due, and when the clock fired it (ISO 8601, UTC). */
  due_at: string;
  fired_at: string;
  target_arn: string;
  /** The Lambda function invoked, or null for a target that is not one. */
  function: string | null;
  /** The payload sent (the target's Input). */
  input: string;
  /**
   * `pending` (retries to come), `delivered` (the endpoint took it: 2xx), `dropped` (failed, and
   * the retry policy ran out or the error was not one to retry), `recorded` (no Lambda endpoint
   * configured: fired, not invoked), `not_delivered` (a target other than a Lambda function).
   */
  outcome: 'pending' | 'delivered' | 'dropped' | 'recorded' | 'not_delivered';
  reason?: string;
  attempts: { at: string; status?: number; error?: string }[];
  /** Whether the schedule was deleted after (ActionAfterCompletion DELETE). */
  deleted: boolean;
}

interface Delivery {
  record: FiredRecord;
  key: string;
  version: number;
  dueAt: number;
  url: string;
  retries: number;
  maxRetries: number;
  maxAgeMs: number;
  nextAttemptAt: number;
  inFlight: boolean;
}

export interface SchedulerOptions {
  /**
   * Where Lambda targets are invoked: serverless offline's Lambda endpoint (`--lambdaPort`), e.g.
   * `http://127.0.0.1:3002`. Without it, due schedules are recorded as fired and not invoked.
   */
  lambdaUrl?: string;
  /** How often the clock looks for due schedules, in ms (default 1000); false: only `tick()`. */
  tickMs?: number | false;
  /** The first retry's delay in ms (default 1000), doubled for each one after, up to `retryMaxMs`. */
  retryBaseMs?: number;
  /** The longest delay between two attempts, in ms (default 60 000). */
  retryMaxMs?: number;
  /** Schedule groups that exist from the start, besides `default` (kept across resets). */
  groups?: string[];
  /** Called with one line per firing and delivery outcome. */
  log?: (line: string) => void;
}

export interface SchedulerRequest {
  method: string;
  /** The decoded path, e.g. `/schedules/my-schedule`. */
  path: string;
  query: URLSearchParams;
  /** The region of the request's SigV4 credential scope (for ARNs). */
  region: string;
  body: string;
}

/** `/schedules` and `/schedule-groups` (with a name or not): the Scheduler's own paths. */
export function isSchedulerPath(path: string): boolean {
  return /^\/(schedules|schedule-groups)(\/[^/]*)?$/.test(path);
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => ms / 1000;
const keyOf = (group: string, name: string) => `${group}/${name}`;

export class SchedulerStore {
  private readonly schedulesByKey = new Map<string, Schedule>();
  private readonly groups = new Map<string, Group>();
  private readonly initialGroups: string[];
  private readonly deliveries: Delivery[] = [];
  /** Answers to CreateSchedule and DeleteSchedule requests, by their ClientToken. */
  private readonly tokens = new Map<string, { request: string; answer: AwsResponse }>();
  private readonly options: SchedulerOptions;
  private closing = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Every firing, oldest first. */
  readonly fired: FiredRecord[] = [];

  constructor(options: SchedulerOptions = {}) {
    this.options = options;
    this.initialGroups = options.groups ?? [];
    this.resetGroups();
  }

  private resetGroups(): void {
    this.groups.clear();
    this.groups.set(DEFAULT_GROUP, {
      name: DEFAULT_GROUP,
      arn: `arn:aws:scheduler:us-east-1:${ACCOUNT_ID}:schedule-group/${DEFAULT_GROUP}`,
    });
    for (const name of this.initialGroups) this.createGroup(name);
  }

  /** A schedule group, as CreateScheduleGroup makes it (in us-east-1); one that exists stays. */
  createGroup(name: string, region = 'us-east-1'): void {
    const constraints = new Constraints();
    checkName(constraints, 'name', name);
    constraints.throwIfAny();
    if (this.groups.has(name)) return;
    const now = seconds(Date.now());
    this.groups.set(name, {
      name,
      arn: `arn:aws:scheduler:${region}:${ACCOUNT_ID}:schedule-group/${name}`,
      creationDate: now,
      lastModificationDate: now,
    });
  }

  /** Empties schedules, firings and tokens; the groups are those it started with again. */
  reset(): void {
    this.schedulesByKey.clear();
    this.deliveries.length = 0;
    this.fired.length = 0;
    this.tokens.clear();
    this.resetGroups();
    // In-flight invokes of the schedules before are not recorded anywhere now.
    this.closing.abort();
    this.closing = new AbortController();
  }

  /** Starts the clock (unless `tickMs` is false); its timer never keeps the process alive. */
  start(): void {
    const every = this.options.tickMs ?? 1000;
    if (every === false || this.timer) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = true;
      this.tick()
        .catch((error: unknown) => this.options.log?.(`scheduler clock: ${String(error)}`))
        .finally(() => {
          this.ticking = false;
        });
    }, every);
    this.timer.unref();
  }

  /** Stops the clock and abandons invokes under way. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closing.abort();
  }

  // ---- the clock ------------------------------------------------------------------------

  /** When an `at()` schedule is due (ms since the epoch), in its time zone. */
  private dueAt(schedule: Schedule): number | undefined {
    if (schedule.parsed.kind !== 'at') return undefined;
    return wallTimeToInstant(schedule.parsed.wall, schedule.timezone);
  }

  /**
   * Fires every ENABLED one-time schedule due at `now` that has not fired, and makes the invoke
   * attempts due at `now`; resolves when those attempts are answered. Returns what fired.
   */
  async tick(now = Date.now()): Promise<FiredRecord[]> {
    const started: FiredRecord[] = [];
    for (const schedule of [...this.schedulesByKey.values()]) {
      const due = this.dueAt(schedule);
      if (due === undefined || due > now || schedule.state !== 'ENABLED' || schedule.fired) {
        continue;
      }
      schedule.fired = true;
      started.push(this.fire(schedule, due, now));
    }
    const attempts = this.deliveries.filter(
      (delivery) => !delivery.inFlight && delivery.nextAttemptAt <= now,
    );
    await Promise.all(attempts.map((delivery) => this.attempt(delivery, now)));
    return started;
  }

  private fire(schedule: Schedule, due: number, now: number): FiredRecord {
    const target = schedule.target;
    const targetArn = String(target.Arn);
    // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    const lambda = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$/.exec(
      targetArn,
    );
    const record: FiredRecord = {
      schedule: schedule.name,
      group: schedule.group,
      arn: schedule.arn,
      schedule_expression: schedule.expression,
      timezone: schedule.timezone,
      due_at: iso(due),
      fired_at: iso(now),
      target_arn: targetArn,
      function: lambda?.[1] ?? null,
      // No Input: the sandbox sends an empty JSON object (what Scheduler sends then, its
      // reference does not say).
      input: withContextAttributes(
        typeof target.Input === 'string' ? target.Input : '{}',
        schedule.arn,
        due,
      ),
      outcome: 'pending',
      attempts: [],
      deleted: false,
    };
    this.fired.push(record);
    const key = keyOf(schedule.group, schedule.name);
    const { lambdaUrl } = this.options;
    if (!lambda || !lambdaUrl) {
      record.outcome = lambda ? 'recorded' : 'not_delivered';
      record.reason = lambda
        ? 'No Lambda endpoint is configured: fired, not invoked.'
        : 'The sandbox invokes only Lambda function targets.';
      this.log(record);
      this.complete(key, schedule.version, record);
      return record;
    }
    const policy = { ...DEFAULT_RETRY_POLICY, ...((target.RetryPolicy ?? {}) as Json) };
    const qualifier = lambda[2] ? `?Qualifier=${encodeURIComponent(lambda[2])}` : '';
    this.deliveries.push({
      record,
      key,
      version: schedule.version,
      dueAt: due,
      url: `${lambdaUrl.replace(/\/+$/, '')}/2015-03-31/functions/${encodeURIComponent(lambda[1] as string)}/invocations${qualifier}`,
      retries: 0,
      maxRetries: Number(policy.MaximumRetryAttempts),
      maxAgeMs: Number(policy.MaximumEventAgeInSeconds) * 1000,
      nextAttemptAt: now,
      inFlight: false,
    });
    return record;
  }

  /** One invoke: 2xx delivers; 429, 5xx or no answer is retried; any other status drops it. */
  private async attempt(delivery: Delivery, now: number): Promise<void> {
    delivery.inFlight = true;
    const { record } = delivery;
    const signal = this.closing.signal;
    let status: number | undefined;
    let failure: string | undefined;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': JSON_TYPE, 'x-amz-invocation-type': 'Event' },
        body: record.input,
        signal: AbortSignal.any([signal, AbortSignal.timeout(INVOKE_TIMEOUT_MS)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      status = response.status;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    } finally {
      delivery.inFlight = false;
    }
    // Reset or closed meanwhile: this delivery belongs to a state that is gone.
    if (signal.aborted) return;
    record.attempts.push({
      at: iso(now),
      ...(status !== undefined ? { status } : { error: failure }),
    });
    if (status !== undefined && status >= 200 && status < 300) {
      record.outcome = 'delivered';
      this.finish(delivery);
      return;
    }
    const retryable = status === undefined || status === 429 || status >= 500;
    if (!retryable) {
      this.drop(delivery, `The endpoint answered ${status}: not an error to retry.`);
      return;
    }
    if (delivery.retries >= delivery.maxRetries) {
      this.drop(delivery, `MaximumRetryAttempts (${delivery.maxRetries}) reached.`);
      return;
    }
    const base = this.options.retryBaseMs ?? 1000;
    const wait = Math.min(base * 2 ** delivery.retries, this.options.retryMaxMs ?? 60_000);
    if (now + wait - delivery.dueAt > delivery.maxAgeMs) {
      this.drop(
        delivery,
        `MaximumEventAgeInSeconds (${delivery.maxAgeMs / 1000}) would pass before the next attempt.`,
      );
      return;
    }
    delivery.retries += 1;
    delivery.nextAttemptAt = now + wait;
  }

  private drop(delivery: Delivery, reason: string): void {
    delivery.record.outcome = 'dropped';
    delivery.record.reason = `${reason} Dead-letter queues are not emulated.`;
    this.finish(delivery);
  }

  private finish(delivery: Delivery): void {
    const index = this.deliveries.indexOf(delivery);
    if (index >= 0) this.deliveries.splice(index, 1);
    this.log(delivery.record);
    this.complete(delivery.key, delivery.version, delivery.record);
  }

  /** After the last invocation: DELETE removes the schedule (unless it was updated since). */
  private complete(key: string, version: number, record: FiredRecord): void {
    const schedule = this.schedulesByKey.get(key);
    if (schedule?.version !== version || schedule.actionAfterCompletion !== 'DELETE') return;
    this.schedulesByKey.delete(key);
    record.deleted = true;
  }

  private log(record: FiredRecord): void {
    const last = record.attempts.at(-1);
    const detail = last ? (last.status ?? last.error) : record.reason;
    this.options.log?.(
      `scheduler: fired ${record.group}/${record.schedule} → ${record.function ?? record.target_arn}: ${record.outcome}${detail === undefined ? '' : ` (${detail})`}`,
    );
  }

  // ---- the control surface ----------------------------------------------------------------

  /** What the sandbox holds, with each one-time schedule's next firing (GET …/scheduler/schedules). */
  view(): Record<string, unknown>[] {
    return [...this.schedulesByKey.values()].sort(compareSchedules).map((schedule) => {
      const due = this.dueAt(schedule);
      return {
        group: schedule.group,
        name: schedule.name,
        arn: schedule.arn,
        schedule_expression: schedule.expression,
        timezone: schedule.timezone,
        state: schedule.state,
        action_after_completion: schedule.actionAfterCompletion,
        target: schedule.target,
        // Recurring schedules are not fired by the sandbox: no next firing.
        next_fire_at:
          due === undefined || schedule.fired || schedule.state !== 'ENABLED' ? null : iso(due),
        fired: schedule.fired,
      };
    });
  }

  // ---- the API ----------------------------------------------------------------------------

  handle(request: SchedulerRequest): AwsResponse {
    try {
      return { status: 200, headers: { 'content-type': JSON_TYPE }, body: this.route(request) };
    } catch (error) {
      const failure =
        error instanceof SchedulerError
          ? error
          : error instanceof SyntaxError
            ? new SchedulerError(
                'SerializationException',
                400,
                'The request body is not valid JSON.',
              )
            : error;
      if (!(failure instanceof SchedulerError)) throw failure;
      return {
        status: failure.status,
        headers: { 'content-type': JSON_TYPE, 'x-amzn-errortype': failure.type },
        body: { Message: failure.message },
      };
    }
  }

  private route(request: SchedulerRequest): unknown {
    const [, collection, rawName] = /^\/(schedules|schedule-groups)(?:\/(.*))?$/.exec(
      request.path,
    ) ?? [undefined, '', undefined];
    const name = rawName === '' ? undefined : rawName;
    const body = (): Json => {
      const parsed: unknown = JSON.parse(request.body || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new SchedulerError(
          'SerializationException',
          400,
          'The request body is not a JSON object.',
        );
      }
      return parsed as Json;
    };
    const operation = `${request.method} ${collection}${name === undefined ? '' : '/{Name}'}`;
    switch (operation) {
      case 'POST schedules/{Name}': {
        const input = body();
        return this.idempotent('CreateSchedule', request, input, name as string, () =>
          this.createSchedule(name as string, input, request.region),
        );
      }
      case 'PUT schedules/{Name}':
        return this.updateSchedule(name as string, body());
      case 'GET schedules/{Name}':
        return this.getSchedule(name as string, request.query);
      case 'DELETE schedules/{Name}':
        return this.idempotent(
          'DeleteSchedule',
          request,
          { groupName: request.query.get('groupName') },
          name as string,
          () => this.deleteSchedule(name as string, request.query),
          request.query.get('clientToken'),
        );
      case 'GET schedules':
        return this.listSchedules(request.query);
      case 'POST schedule-groups/{Name}':
        return this.createScheduleGroup(name as string, body(), request.region);
      case 'GET schedule-groups/{Name}':
        return this.getScheduleGroup(name as string);
      case 'GET schedule-groups':
        return this.listScheduleGroups(request.query);
      case 'DELETE schedule-groups/{Name}':
        return this.deleteScheduleGroup(name as string);
      default:
        throw new SchedulerError(
          'UnknownOperationException',
          404,
          `The sandbox's Scheduler has no operation at ${request.method} ${request.path}.`,
        );
    }
  }

  /**
   * A request repeated with the ClientToken of one that succeeded (the SDK's retry of a call
   * whose answer was lost) answers as that one did, instead of ConflictException or
   * ResourceNotFoundException.
   */
  private idempotent(
    operation: string,
    request: SchedulerRequest,
    input: Json,
    name: string,
    run: () => unknown,
    token: unknown = input.ClientToken,
  ): unknown {
    if (typeof token !== 'string') return run();
    const constraints = new Constraints();
    constraints.string('clientToken', token, { min: 1, max: 64, pattern: CLIENT_TOKEN_PATTERN });
    constraints.throwIfAny();
    const key = `${operation} ${token}`;
    const fingerprint = JSON.stringify([request.path, name, { ...input, ClientToken: undefined }]);
    const seen = this.tokens.get(key);
    if (seen?.request === fingerprint) return seen.answer.body;
    const answer = run();
    // The oldest tokens are forgotten first: the SDK sends a fresh one with every call.
    if (this.tokens.size >= MAX_TOKENS)
      this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(key, {
      request: fingerprint,
      answer: { status: 200, headers: {}, body: answer },
    });
    return answer;
  }

  private group(name: string | null | undefined): Group {
    const group = this.groups.get(name ?? DEFAULT_GROUP);
    if (!group) throw notFound(`Schedule group ${name} does not exist.`);
    return group;
  }

  /**
   * CreateSchedule's and UpdateSchedule's input, checked as AWS checks it: the model's
   * constraints first, all together; then the expression, the time zone and the dates.
   */
  private scheduleInput(name: string, input: Json, now: number) {
    const constraints = new Constraints();
    checkName(constraints, 'name', name);
    checkName(constraints, 'groupName', input.GroupName);
    constraints.required('scheduleExpression', input.ScheduleExpression);
    constraints.string('scheduleExpression', input.ScheduleExpression, { min: 1, max: 256 });
    constraints.string('scheduleExpressionTimezone', input.ScheduleExpressionTimezone, {
      min: 1,
      max: 50,
    });
    constraints.string('description', input.Description, { min: 0, max: 512 });
    constraints.string('state', input.State, { values: ['ENABLED', 'DISABLED'] });
    constraints.string('actionAfterCompletion', input.ActionAfterCompletion, {
      values: ['NONE', 'DELETE'],
    });
    constraints.string('kmsKeyArn', input.KmsKeyArn, {
      min: 1,
      max: 2048,
      pattern: KMS_ARN_PATTERN,
    });
    constraints.string('clientToken', input.ClientToken, {
      min: 1,
      max: 64,
      pattern: CLIENT_TOKEN_PATTERN,
    });
    constraints.timestamp('startDate', input.StartDate);
    constraints.timestamp('endDate', input.EndDate);
    const window = constraints.object('flexibleTimeWindow', input.FlexibleTimeWindow);
    if (constraints.required('flexibleTimeWindow', window) && window) {
      constraints.required('flexibleTimeWindow.mode', window.Mode);
      constraints.string('flexibleTimeWindow.mode', window.Mode, { values: ['OFF', 'FLEXIBLE'] });
      constraints.integer(
        'flexibleTimeWindow.maximumWindowInMinutes',
        window.MaximumWindowInMinutes,
        1,
        1440,
      );
    }
    const target = constraints.object('target', input.Target);
    if (constraints.required('target', target) && target) {
      constraints.required('target.arn', target.Arn);
      constraints.string('target.arn', target.Arn, { min: 1, max: 1600 });
      constraints.required('target.roleArn', target.RoleArn);
      constraints.string('target.roleArn', target.RoleArn, {
        min: 1,
        max: 1600,
        pattern: ROLE_ARN_PATTERN,
      });
      constraints.string('target.input', target.Input, { min: 1 });
      const retry = constraints.object('target.retryPolicy', target.RetryPolicy);
      if (retry) {
        constraints.integer(
          'target.retryPolicy.maximumEventAgeInSeconds',
          retry.MaximumEventAgeInSeconds,
          60,
          86_400,
        );
        constraints.integer(
          'target.retryPolicy.maximumRetryAttempts',
          retry.MaximumRetryAttempts,
          0,
          185,
        );
      }
      const deadLetter = constraints.object('target.deadLetterConfig', target.DeadLetterConfig);
      if (deadLetter) {
        constraints.string('target.deadLetterConfig.arn', deadLetter.Arn, {
          min: 1,
          max: 1600,
          pattern: SQS_ARN_PATTERN,
        });
      }
    }
    constraints.throwIfAny();

    const expression = input.ScheduleExpression as string;
    const parsed = parseScheduleExpression(expression);
    if (!parsed) throw validationError(`Invalid Schedule Expression ${expression}`);
    const timezone = (input.ScheduleExpressionTimezone as string | undefined) ?? 'UTC';
    if (!isTimeZone(timezone)) {
      throw validationError(
        `Invalid ScheduleExpressionTimezone ${timezone} (the sandbox's wording)`,
      );
    }
    if (window?.Mode === 'FLEXIBLE' && window.MaximumWindowInMinutes === undefined) {
      throw validationError(
        "MaximumWindowInMinutes is required when the FlexibleTimeWindow Mode is FLEXIBLE (the sandbox's wording)",
      );
    }
    const startDate = input.StartDate as number | undefined;
    const endDate = input.EndDate as number | undefined;
    // StartDate and EndDate bound recurring schedules; a one-time schedule ignores them.
    if (parsed.kind !== 'at') {
      if (startDate !== undefined && startDate * 1000 < now - 5 * 60_000) {
        throw validationError('The StartDate you specify cannot be earlier than 5 minutes ago.');
      }
      if (startDate !== undefined && endDate !== undefined && endDate <= startDate) {
        throw validationError(
          "The EndDate you specify must be later than the StartDate (the sandbox's wording).",
        );
      }
    }
    const { RetryPolicy, ...rest } = target as Json;
    return {
      expression,
      parsed,
      timezone,
      startDate,
      endDate,
      description: input.Description as string | undefined,
      state: ((input.State as string | undefined) ?? 'ENABLED') as Schedule['state'],
      kmsKeyArn: input.KmsKeyArn as string | undefined,
      // AWS fills in the default retry policy: GetSchedule shows it.
      target: {
        ...rest,
        RetryPolicy: { ...DEFAULT_RETRY_POLICY, ...((RetryPolicy ?? {}) as Json) },
      },
      flexibleTimeWindow: window as Json,
      actionAfterCompletion: ((input.ActionAfterCompletion as string | undefined) ??
        'NONE') as Schedule['actionAfterCompletion'],
    };
  }

  private createSchedule(name: string, input: Json, region: string): unknown {
    const now = Date.now();
    const fields = this.scheduleInput(name, input, now);
    const group = this.group(input.GroupName as string | undefined);
    const key = keyOf(group.name, name);
    if (this.schedulesByKey.has(key)) throw conflict(`Schedule ${name} already exists.`);
    const schedule: Schedule = {
      ...fields,
      name,
      group: group.name,
      arn: `arn:aws:scheduler:${region}:${ACCOUNT_ID}:schedule/${group.name}/${name}`,
      creationDate: seconds(now),
      lastModificationDate: seconds(now),
      version: 1,
      fired: false,
    };
    this.schedulesByKey.set(key, schedule);
    return { ScheduleArn: schedule.arn };
  }

  private updateSchedule(name: string, input: Json): unknown {
    const now = Date.now();
    const fields = this.scheduleInput(name, input, now);
    const group = this.group(input.GroupName as string | undefined);
    const existing = this.schedulesByKey.get(keyOf(group.name, name));
    if (!existing) throw notFound(`Schedule ${name} does not exist.`);
    // A whole replacement: every field not given is back to its default.
    const updated: Schedule = {
      ...fields,
      name,
      group: group.name,
      arn: existing.arn,
      creationDate: existing.creationDate,
      lastModificationDate: seconds(now),
      version: existing.version + 1,
      fired: false,
    };
    this.schedulesByKey.set(keyOf(group.name, name), updated);
    return { ScheduleArn: updated.arn };
  }

  private existing(name: string, groupName: string | null): Schedule {
    const constraints = new Constraints();
    checkName(constraints, 'name', name);
    checkName(constraints, 'groupName', groupName ?? undefined);
    constraints.throwIfAny();
    const group = this.group(groupName);
    const schedule = this.schedulesByKey.get(keyOf(group.name, name));
    if (!schedule) throw notFound(`Schedule ${name} does not exist.`);
    return schedule;
  }

  private getSchedule(name: string, query: URLSearchParams): unknown {
    const schedule = this.existing(name, query.get('groupName'));
    const optional = {
      StartDate: schedule.startDate,
      EndDate: schedule.endDate,
      Description: schedule.description,
      KmsKeyArn: schedule.kmsKeyArn,
    };
    return {
      Arn: schedule.arn,
      GroupName: schedule.group,
      Name: schedule.name,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      State: schedule.state,
      CreationDate: schedule.creationDate,
      LastModificationDate: schedule.lastModificationDate,
      Target: schedule.target,
      FlexibleTimeWindow: schedule.flexibleTimeWindow,
      ActionAfterCompletion: schedule.actionAfterCompletion,
      ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    };
  }

  private deleteSchedule(name: string, query: URLSearchParams): unknown {
    const schedule = this.existing(name, query.get('groupName'));
    this.schedulesByKey.delete(keyOf(schedule.group, schedule.name));
    return {};
  }

  /** A page of a sorted list, from after the NextToken's position. */
  private page<T>(
    query: URLSearchParams,
    items: T[],
    keyOfItem: (item: T) => string,
  ): { page: T[]; NextToken?: string } {
    const token = query.get('NextToken');
    const maxResults = query.get('MaxResults');
    const constraints = new Constraints();
    constraints.string('nextToken', token ?? undefined, { min: 1, max: 2048 });
    if (maxResults !== null) {
      const number = Number(maxResults);
      if (!Number.isInteger(number)) {
        throw new SchedulerError(
          'SerializationException',
          400,
          `'maxResults' must be an integer (the sandbox's wording)`,
        );
      }
      constraints.integer('maxResults', number, 1, 100);
    }
    constraints.throwIfAny();
    let after: string | undefined;
    if (token !== null) {
      try {
        after = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')).after;
      } catch {
        after = undefined;
      }
      if (typeof after !== 'string')
        throw validationError(`Invalid NextToken (the sandbox's wording)`);
    }
    const rest = after === undefined ? items : items.filter((item) => keyOfItem(item) > after);
    const size = maxResults === null ? 100 : Number(maxResults);
    const page = rest.slice(0, size);
    const last = page.at(-1);
    return rest.length > size && last !== undefined
      ? {
          page,
          NextToken: Buffer.from(JSON.stringify({ after: keyOfItem(last) })).toString('base64url'),
        }
      : { page };
  }

  private listSchedules(query: URLSearchParams): unknown {
    const groupName = query.get('ScheduleGroup');
    const prefix = query.get('NamePrefix');
    const state = query.get('State');
    const constraints = new Constraints();
    checkName(constraints, 'groupName', groupName ?? undefined);
    checkName(constraints, 'namePrefix', prefix ?? undefined);
    constraints.string('state', state ?? undefined, { values: ['ENABLED', 'DISABLED'] });
    constraints.throwIfAny();
    if (groupName !== null) this.group(groupName);
    const matching = [...this.schedulesByKey.values()]
      .filter(
        (schedule) =>
          (groupName === null || schedule.group === groupName) &&
          (prefix === null || schedule.name.startsWith(prefix)) &&
          (state === null || schedule.state === state),
      )
      .sort(compareSchedules);
    const { page, NextToken } = this.page(query, matching, (schedule) =>
      keyOf(schedule.group, schedule.name),
    );
    return {
      Schedules: page.map((schedule) => ({
        Arn: schedule.arn,
        Name: schedule.name,
        GroupName: schedule.group,
        State: schedule.state,
        CreationDate: schedule.creationDate,
        LastModificationDate: schedule.lastModificationDate,
        Target: { Arn: schedule.target.Arn },
      })),
      ...(NextToken ? { NextToken } : {}),
    };
  }

  private createScheduleGroup(name: string, input: Json, region: string): unknown {
    const constraints = new Constraints();
    checkName(constraints, 'name', name);
    constraints.string('clientToken', input.ClientToken, {
      min: 1,
      max: 64,
      pattern: CLIENT_TOKEN_PATTERN,
    });
    constraints.throwIfAny();
    if (this.groups.has(name)) throw conflict(`Schedule group ${name} already exists.`);
    this.createGroup(name, region);
    return { ScheduleGroupArn: this.groups.get(name)?.arn };
  }

  private groupSummary(group: Group): Json {
    return {
      Arn: group.arn,
      Name: group.name,
      State: 'ACTIVE',
      ...(group.creationDate === undefined
        ? {}
        : { CreationDate: group.creationDate, LastModificationDate: group.lastModificationDate }),
    };
  }

  private getScheduleGroup(name: string): unknown {
    const constraints = new Constraints();
    checkName(constraints, 'name', name);
    constraints.throwIfAny();
    return this.groupSummary(this.group(name));
  }

  private listScheduleGroups(query: URLSearchParams): unknown {
    const prefix = query.get('NamePrefix');
    const constraints = new Constraints();
    checkName(constraints, 'namePrefix', prefix ?? undefined);
    constraints.throwIfAny();
    const groups = [...this.groups.values()]
      .filter((group) => prefix === null || group.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const { page, NextToken } = this.page(query, groups, (group) => group.name);
    return {
      ScheduleGroups: page.map((group) => this.groupSummary(group)),
      ...(NextToken ? { NextToken } : {}),
    };
  }

  /** Deletes a group and its schedules (at once; AWS takes a while, in state DELETING). */
  private deleteScheduleGroup(name: string): unknown {
    const group = this.group(name);
    if (group.name === DEFAULT_GROUP) {
      throw validationError(
        `The default schedule group cannot be deleted (the sandbox's wording).`,
      );
    }
    for (const [key, schedule] of this.schedulesByKey) {
      if (schedule.group === group.name) this.schedulesByKey.delete(key);
    }
    this.groups.delete(group.name);
    return {};
  }
}

function compareSchedules(a: Schedule, b: Schedule): number {
  const left = keyOf(a.group, a.name);
  const right = keyOf(b.group, b.name);
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The context attributes Scheduler puts in a target's Input: `<aws.scheduler.schedule-arn>`,
 * `<aws.scheduler.scheduled-time>` (the due instant, UTC, to the second), `<aws.scheduler.execution-id>`
 * (new for each firing) and `<aws.scheduler.attempt-number>` (1: the sandbox's record keeps the
 * first attempt's payload).
 */
export function withContextAttributes(input: string, scheduleArn: string, due: number): string {
  return input
    .replaceAll('<aws.scheduler.schedule-arn>', scheduleArn)
    .replaceAll('<aws.scheduler.scheduled-time>', `${new Date(due).toISOString().slice(0, 19)}Z`)
    .replaceAll('<aws.scheduler.execution-id>', randomUUID())
    .replaceAll('<aws.scheduler.attempt-number>', '1');
}
