/**
 * The `/eventstreams` commands, as a table: one entry per command — its usage and help line,
 * whether it changes streams (only for the allowed Slack users), whether it always goes to the
 * worker, how its words parse, and what it does against ngrok with the message that says so.
 * The help text, the permission check, the hand-off and the Slack app manifest's usage hint (a
 * test holds it equal) all come from here; the command function (./answer.ts) and the worker
 * (./worker.ts) run a command the same way.
 *
 *   help | list [description prefix] | get <es_id> | sample <es_id> <rate> [for <duration> [reason]]
 *   | release <es_id> | overrides | plan [instant] | apply
 *
 * A rate is `0.25` or `25%`, from 0.01 to 1.00; a duration `30m`, `2h`, `1h30m` or `1d`. Text that
 * is no command is `invalid`, with why (answered with the help).
 *
 * Overrides (`sample … for`, `release`, and `overrides`, which reads ngrok once per stream) run in
 * the worker only: its role may write the overrides table and their schedules, the command
 * function's may only read the table. The worker's caller carries the writes (`overrides`: this
 * module imports no code that writes them, so the command function's bundle has none); a command
 * that needs them and has none is handed to the worker.
 */

import {
  EVENT_STREAM_ID,
  type EventStream,
  SAMPLING_RATE_MAX,
  SAMPLING_RATE_MIN,
} from '../ngrok/schemas.ts';
import type { Actor } from '../observability/audit.ts';
import { audited, changedFields } from '../observability/audit.ts';
import { listOverrides } from '../overrides/list.ts';
import type { EndResult, SetRequest, SetResult } from '../overrides/operations.ts';
import { overrideWindow } from '../overrides/window.ts';
import { parseShortDuration } from '../sampling/duration.ts';
import { governingRule } from '../sampling/evaluate.ts';
import { apply, listStreams, plan, planOf, type Run } from '../sampling/run.ts';
import type { ServiceSecret } from '../secrets/service-secret.ts';
import { settings } from '../settings.ts';
import {
  appliedMessage,
  type Governance,
  heldMessage,
  helpMessage,
  listMessage,
  noOverrideMessage,
  overridesMessage,
  planMessage,
  refusalMessage,
  releasedMessage,
  type SlackMessage,
  sampledMessage,
  streamMessage,
} from './messages.ts';

/** Who runs a command, and how far. */
export interface Caller {
  /** The Slack user and workspace. */
  actor: Actor;
  /** The worker reads every page; the command function only the first. */
  allPages: boolean;
  /** Setting and ending the manual override: the worker's only; absent in the command function. */
  overrides?: OverrideWrites;
}

/**
 * Setting and ending a stream's manual override (lib/overrides/operations.ts, with the key
 * `manual` and the target of its schedules): what only the worker may do, as its role writes the
 * overrides table and their schedules and the command function's only reads the table.
 */
export interface OverrideWrites {
  set(run: Run, request: Omit<SetRequest, 'key'>, now: number): Promise<SetResult>;
  release(run: Run, streamId: string, actor: Actor, now: number): Promise<EndResult | undefined>;
}

/**
 * The command needs more than one page (or more time), or what only the worker may do (set or end
 * an override): the worker does it.
 */
export class NeedsWorker extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NeedsWorker';
  }
}

interface Invalid {
  invalid: string;
}

interface CommandSpec<N extends string, A extends object> {
  /** Its first word. */
  name: N;
  /** How it is written, e.g. `sample <es_id> <rate>`. */
  usage: string;
  /** Its line in the help; none: not listed there. */
  help?: string;
  /** It changes streams: only the allowed Slack users may run it; it is announced in the channel. */
  changes: boolean;
  /**
   * It always goes to the worker (it lists every stream, or writes overrides); else it runs at
   * once if time allows. A function: for the arguments it is true of (`sample … for`).
   */
  worker: boolean | ((args: A) => boolean);
  /** Its arguments, from the words after its name; or why they are not. */
  parse(words: string[]): A | Invalid;
  /** What it does, and the message that says so. */
  run(args: A, run: Run, caller: Caller, now: number): Promise<SlackMessage>;
}

const define = <N extends string, A extends object>(spec: CommandSpec<N, A>) => spec;

/** `0.25` or `25%` (a space before % allowed) → 0.25; undefined when it is not a rate. */
export function parseRate(text: string): number | undefined {
  const percent = /^(\d{1,3}(?:\.\d{1,2})?)\s?%$/.exec(text);
  const fraction = /^(?:0?\.\d{1,4}|1(?:\.0{1,4})?|0)$/.exec(text);
  let rate: number | undefined;
  if (percent?.[1] !== undefined) rate = Math.round(Number(percent[1]) * 100) / 10_000;
  else if (fraction) rate = Number(text);
  if (rate === undefined || rate < SAMPLING_RATE_MIN || rate > SAMPLING_RATE_MAX) return undefined;
  return rate;
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

const streamId = (word: string): Invalid | undefined =>
  EVENT_STREAM_ID.test(word)
    ? undefined
    : { invalid: `\`${word}\` is not an Event Stream id (es_…)` };

/** The arguments of a command that takes one stream id and nothing else. */
const oneStreamId =
  (name: string) =>
  (words: string[]): { id: string } | Invalid => {
    const [id] = words;
    if (words.length !== 1 || id === undefined) {
      return { invalid: `\`${name}\` takes one stream id` };
    }
    return streamId(id) ?? { id };
  };

/** An override's reason, as long as the HTTP API takes one. */
export const MAX_REASON_CHARS = 500;

/** `sample <es_id> <rate>`, and with `for <duration> [reason]` an override for that long. */
interface SampleArgs {
  id: string;
  rate: number;
  /** `for …`: the manual override, from now for `ms` (`duration` as it was written). */
  hold?: { duration: string; ms: number; reason: string };
}

const SAMPLE_FORMS = '`sample es_… 25%`, or for a while `sample es_… 25% for 2h [reason]`';

function parseSample(words: string[]): SampleArgs | Invalid {
  // `25 %`: the percent sign on its own word.
  if (words[2] === '%') words.splice(1, 2, `${words[1]}%`);
  const [id, rateText, forWord, durationText, ...reasonWords] = words;
  if (
    id === undefined ||
    rateText === undefined ||
    (forWord !== undefined && forWord.toLowerCase() !== 'for')
  ) {
    return { invalid: `\`sample\` takes a stream id and a rate: ${SAMPLE_FORMS}` };
  }
  const notAnId = streamId(id);
  if (notAnId) return notAnId;
  const rate = parseRate(rateText);
  if (rate === undefined) {
    return {
      invalid: `\`${rateText}\` is not a rate from 0.01 to 1.00 (write \`0.25\` or \`25%\`)`,
    };
  }
  if (forWord === undefined) return { id, rate };
  if (durationText === undefined) {
    return { invalid: '`for` takes a duration: `30m`, `2h`, `1h30m` or `1d`' };
  }
  const duration = parseShortDuration(durationText);
  if ('invalid' in duration) return { invalid: duration.invalid };
  // The same check as when it is set (from now): too short, or longer than the service allows.
  const window = overrideWindow(
    { durationMs: duration.ms },
    Date.now(),
    settings.samplingOverrideMaxHours(),
  );
  if ('invalid' in window) return { invalid: `\`for ${durationText}\` ${window.invalid}` };
  const reason = reasonWords.join(' ');
  if (reason.length > MAX_REASON_CHARS) {
    return { invalid: `the reason is longer than ${MAX_REASON_CHARS} characters` };
  }
  return { id, rate, hold: { duration: durationText, ms: duration.ms, reason } };
}

/** The override writes; only the worker has them (see `Caller.overrides`). */
function overridesOf(caller: Caller): OverrideWrites {
  if (!caller.overrides) throw new NeedsWorker('overrides are set and ended by the worker');
  return caller.overrides;
}

function governanceOf(run: Run, stream: EventStream, now: number): Governance {
  const planned = planOf(run, stream, now);
  if (!planned) return { rule: null, window: null, next: null, override: null };
  return {
    rule: planned.rule,
    window: planned.window,
    next: planned.next_change,
    override: planned.override,
  };
}

/** `sample <es_id> <rate>`: sets the rate now; the schedule sets it again at its next change. */
async function sampleNow(
  { id, rate }: SampleArgs,
  run: Run,
  caller: Caller,
  now: number,
): Promise<SlackMessage> {
  const { before, after } = await audited(
    {
      actor: caller.actor,
      action: 'event_stream.update',
      stream_id: id,
      context: { cause: 'slack', command: 'sample' },
    },
    async () => {
      const current = await run.ngrok.eventStreams.get(id, run.call);
      const updated = await run.ngrok.eventStreams.update(id, { sampling_rate: rate }, run.call);
      return {
        result: { before: current.sampling_rate, after: updated },
        changes: changedFields(current, updated, ['sampling_rate']),
      };
    },
  );
  return sampledMessage(caller.actor.name, after, before, governanceOf(run, after, now));
}

/** `sample <es_id> <rate> for <duration> [reason]`: the manual override, from now. */
async function sampleFor(
  { id, rate }: SampleArgs,
  hold: NonNullable<SampleArgs['hold']>,
  run: Run,
  caller: Caller,
  now: number,
): Promise<SlackMessage> {
  const overrides = overridesOf(caller);
  const window = overrideWindow({ durationMs: hold.ms }, now, settings.samplingOverrideMaxHours());
  if ('invalid' in window) {
    return helpMessage(HELP_LINES, `\`for ${hold.duration}\` ${window.invalid}`);
  }
  const result = await overrides.set(
    run,
    {
      streamId: id,
      rate,
      startsAt: window.starts_at,
      expiresAt: window.expires_at,
      reason: hold.reason,
      actor: caller.actor,
    },
    now,
  );
  return heldMessage(caller.actor.name, result);
}

async function allStreams(run: Run, caller: Caller): Promise<EventStream[]> {
  const streams: EventStream[] = [];
  const listing = listStreams(run, {
    beforePage: (index) => {
      if (index > 0 && !caller.allPages) throw new NeedsWorker('the list has more than one page');
    },
    outOfTime: () => new NeedsWorker('the list takes longer'),
  });
  for await (const stream of listing) streams.push(stream);
  return streams;
}

export const COMMANDS = [
  define({
    name: 'help',
    usage: 'help',
    changes: false,
    worker: false,
    parse: () => ({}),
    run: async () => helpMessage(HELP_LINES),
  }),
  define({
    name: 'list',
    usage: 'list [description prefix]',
    help: 'streams, their sampling rate and the rule that governs each',
    changes: false,
    worker: false,
    parse: (words) => ({ prefix: words.length > 0 ? words.join(' ') : null }),
    run: async ({ prefix }, run, caller) => {
      const streams = (await allStreams(run, caller)).filter(
        (stream) => prefix === null || stream.description.startsWith(prefix),
      );
      return listMessage(
        streams.map((stream) => ({
          stream,
          rule: governingRule(run.policy, stream)?.name ?? null,
        })),
        prefix,
      );
    },
  }),
  define({
    name: 'get',
    usage: 'get <es_id>',
    help: 'one stream, and the override that holds it',
    changes: false,
    worker: false,
    parse: oneStreamId('get'),
    run: async ({ id }, run, _caller, now) => {
      const stream = await run.ngrok.eventStreams.get(id, run.call);
      return streamMessage(stream, governanceOf(run, stream, now));
    },
  }),
  define({
    name: 'sample',
    usage: 'sample <es_id> <rate> [for <duration> [reason]]',
    help: 'set its sampling rate: `0.25` or `25%`, from 0.01 to 1.00; with `for 2h` (`30m`, `1h30m`, `1d`) hold it at that rate for that long, then the schedule takes over again',
    changes: true,
    worker: (args: SampleArgs) => args.hold !== undefined,
    parse: parseSample,
    run: (args, run, caller, now) =>
      args.hold ? sampleFor(args, args.hold, run, caller, now) : sampleNow(args, run, caller, now),
  }),
  define({
    name: 'release',
    usage: 'release <es_id>',
    help: 'end its override (`sample … for`) now: the schedule sets it again',
    changes: true,
    worker: true,
    parse: oneStreamId('release'),
    run: async ({ id }, run, caller, now) => {
      const ended = await overridesOf(caller).release(run, id, caller.actor, now);
      return ended
        ? releasedMessage(caller.actor.name, ended)
        : noOverrideMessage(caller.actor.name, id);
    },
  }),
  define({
    name: 'overrides',
    usage: 'overrides',
    help: 'the overrides that hold or are to come, and the rate of each stream now',
    changes: false,
    worker: true,
    parse: (words) => (words.length > 0 ? { invalid: '`overrides` takes nothing after it' } : {}),
    run: async (_args, run, _caller, now) => overridesMessage(await listOverrides(run, now)),
  }),
  define({
    name: 'plan',
    usage: 'plan [instant]',
    help: 'what the sampling schedule sets now (or at an RFC 3339 instant), and when',
    changes: false,
    worker: true,
    parse: (words) => {
      if (words.length === 0) return { at: null };
      const at =
        words.length === 1 && RFC_3339.test(words[0] as string)
          ? Date.parse(words[0] as string)
          : Number.NaN;
      if (Number.isNaN(at)) {
        return {
          invalid: '`plan` takes an RFC 3339 instant, e.g. `plan 2027-03-28T03:00:00+02:00`',
        };
      }
      return { at };
    },
    run: async ({ at }, run, _caller, now) => {
      const instant = at ?? now;
      const { streams, summary } = await plan(run, instant);
      return planMessage(instant, streams, summary);
    },
  }),
  define({
    name: 'apply',
    usage: 'apply',
    help: 'apply the sampling schedule now',
    changes: true,
    worker: true,
    parse: (words) => (words.length > 0 ? { invalid: '`apply` takes nothing after it' } : {}),
    run: async (_args, run, caller, now) => {
      const { streams, summary } = await apply(run, now, { actor: caller.actor, cause: 'apply' });
      return appliedMessage(caller.actor.name, streams, summary);
    },
  }),
] as const;

type Spec = (typeof COMMANDS)[number];
type Parsed<S> = S extends CommandSpec<infer N, infer A> ? { kind: N } & A : never;

/** A command, parsed: its name (`kind`) and arguments; or `invalid`, with why. */
export type Command = Parsed<Spec> | { kind: 'invalid'; reason: string };

/** The help: each command's usage and line, and who may use the changing ones. */
export const HELP_LINES: readonly string[] = [
  '*/eventstreams* — ngrok Event Streams',
  ...COMMANDS.flatMap((spec): string[] =>
    'help' in spec && spec.help ? [`• \`${spec.usage}\` — ${spec.help}`] : [],
  ),
  `${COMMANDS.filter((spec) => spec.changes)
    .map((spec) => `\`${spec.name}\``)
    .join(', ')
    .replace(/, ([^,]*)$/, ' and $1')} are for the users the service allows.`,
];

/** What the Slack app's manifest shows as the command's usage hint. */
export const USAGE_HINT = COMMANDS.map((spec) => spec.usage).join(' | ');

function specOf(kind: string): Spec | undefined {
  return COMMANDS.find((spec) => spec.name === kind);
}

export function parseCommand(text: string): Command {
  const [verb = 'help', ...words] = text.trim().split(/\s+/).filter(Boolean);
  const spec = specOf(verb.toLowerCase());
  if (!spec) return { kind: 'invalid', reason: `\`${verb}\` is not a command` };
  const args = (spec.parse as (words: string[]) => object | Invalid)(words);
  if ('invalid' in args) return { kind: 'invalid', reason: args.invalid };
  return { kind: spec.name, ...args } as Command;
}

/** Whether the command changes streams. */
export function changes(command: Command): boolean {
  return specOf(command.kind)?.changes ?? false;
}

/** Whether the command always goes to the worker. */
export function alwaysWorker(command: Command): boolean {
  const worker = specOf(command.kind)?.worker ?? false;
  return typeof worker === 'function' ? (worker as (args: object) => boolean)(command) : worker;
}

/** The one actor of a Slack user's changes, in the command function and the worker alike. */
export function slackActor(user: { user_id: string; team_id: string }): Actor {
  return { kind: 'slack', name: user.user_id, team: user.team_id };
}

/**
 * The one permission check: a changing command is refused unless the user is allowed; the
 * refusal says so and to whom to turn. Undefined: the user may run it.
 */
export function refusalFor(
  command: Command,
  slack: ServiceSecret['slack'],
  userId: string,
): SlackMessage | undefined {
  if (!changes(command) || slack?.allowed_user_ids.includes(userId)) return undefined;
  return refusalMessage(
    `Only the Slack users this service allows may use \`${command.kind}\`: ask an operator to add you (${userId}).`,
  );
}

/** Runs a command: what it does against ngrok, and the message that says so. */
export async function execute(command: Command, run: Run, caller: Caller): Promise<SlackMessage> {
  if (command.kind === 'invalid') return helpMessage(HELP_LINES, command.reason);
  const spec = specOf(command.kind) as Spec;
  return (
    spec.run as (args: object, run: Run, caller: Caller, now: number) => Promise<SlackMessage>
  )(command, run, caller, Date.now());
}
