/**
 * The text after `/eventstreams`, as a command. Pure: parsing only, no ngrok, no Slack.
 *
 *   help | list [description prefix] | get <id> | sample <id> <rate> | plan [instant] | apply
 *
 * A rate is `0.25` or `25%`, from 0.01 to 1.00. Anything else is `invalid`, with why (answered
 * with the help).
 */
import { EVENT_STREAM_ID, SAMPLING_RATE_MAX, SAMPLING_RATE_MIN } from '../ngrok/schemas.ts';

export type Command =
  | { kind: 'help' }
  | { kind: 'list'; prefix: string | null }
  | { kind: 'get'; id: string }
  | { kind: 'sample'; id: string; rate: number }
  | { kind: 'plan'; at: number | null }
  | { kind: 'apply' }
  | { kind: 'invalid'; reason: string };

/** The commands that change something: only for the allowed Slack users. */
export const CHANGING: ReadonlySet<Command['kind']> = new Set(['sample', 'apply']);

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

export function parseCommand(text: string): Command {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = 'help', ...args] = words;
  switch (verb.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'list':
      return { kind: 'list', prefix: args.length > 0 ? args.join(' ') : null };
    case 'get':
      if (args.length !== 1) return { kind: 'invalid', reason: '`get` takes one stream id' };
      if (!EVENT_STREAM_ID.test(args[0] as string)) {
        return { kind: 'invalid', reason: `\`${args[0]}\` is not an Event Stream id (es_…)` };
      }
      return { kind: 'get', id: args[0] as string };
    case 'sample': {
      // `25 %`: the percent sign on its own word.
      if (args.length === 3 && args[2] === '%') args.splice(1, 2, `${args[1]}%`);
      if (args.length !== 2) {
        return {
          kind: 'invalid',
          reason: '`sample` takes a stream id and a rate: `sample es_… 25%`',
        };
      }
      const [id, rateText] = args as [string, string];
      if (!EVENT_STREAM_ID.test(id)) {
        return { kind: 'invalid', reason: `\`${id}\` is not an Event Stream id (es_…)` };
      }
      const rate = parseRate(rateText);
      if (rate === undefined) {
        return {
          kind: 'invalid',
          reason: `\`${rateText}\` is not a rate from 0.01 to 1.00 (write \`0.25\` or \`25%\`)`,
        };
      }
      return { kind: 'sample', id, rate };
    }
    case 'plan': {
      if (args.length === 0) return { kind: 'plan', at: null };
      const at =
        args.length === 1 && RFC_3339.test(args[0] as string)
          ? Date.parse(args[0] as string)
          : Number.NaN;
      if (Number.isNaN(at)) {
        return {
          kind: 'invalid',
          reason: '`plan` takes an RFC 3339 instant, e.g. `plan 2027-03-28T03:00:00+02:00`',
        };
      }
      return { kind: 'plan', at };
    }
    case 'apply':
      if (args.length > 0) return { kind: 'invalid', reason: '`apply` takes nothing after it' };
      return { kind: 'apply' };
    default:
      return { kind: 'invalid', reason: `\`${verb}\` is not a command` };
  }
}
