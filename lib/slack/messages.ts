/**
 * The Slack messages of the `/eventstreams` command, in Block Kit (typed with @slack/types), kept
 * within Slack's limits: at most 50 blocks a message and 3,000 characters a section; longer lists
 * end with "…and N more". Pure: text only, no ngrok, no Slack.
 */
import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { EventStream } from '../ngrok/schemas.ts';
import type { ListedOverride } from '../overrides/list.ts';
import type { EndResult, SetResult } from '../overrides/operations.ts';
import { formatDuration } from '../sampling/duration.ts';
import { formatLocalInstant } from '../sampling/zone.ts';
import type {
  PlannedStream,
  RateThen,
  SamplingOverride,
  Summary,
} from '../schemas/sampling-api.ts';

export const MAX_BLOCKS = 50;
export const MAX_SECTION_CHARS = 3000;

export interface SlackMessage {
  response_type: 'ephemeral' | 'in_channel';
  /** The notification and fallback text. */
  text: string;
  blocks: KnownBlock[];
  /** For a post to response_url: replace the message this command answered with first. */
  replace_original?: boolean;
}

/** Characters Slack's mrkdwn treats as control: escaped in anything from a stream. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function formatRate(rate: number): string {
  return rate.toFixed(2);
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, MAX_SECTION_CHARS) } };
}

function context(text: string): ContextBlock {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: text.slice(0, MAX_SECTION_CHARS) }],
  };
}

/**
 * Lines packed into sections of at most 3,000 characters, at most `maxBlocks` blocks; when they
 * do not all fit, the last block counts the lines left out ("…and N more").
 */
export function sectionsOf(lines: readonly string[], maxBlocks: number): KnownBlock[] {
  const sections: string[] = [];
  let current = '';
  for (const line of lines) {
    const fitted = line.replace(/\n/g, ' ').slice(0, MAX_SECTION_CHARS);
    if (current && current.length + 1 + fitted.length > MAX_SECTION_CHARS) {
      sections.push(current);
      current = '';
    }
    current = current ? `${current}\n${fitted}` : fitted;
  }
  if (current) sections.push(current);
  if (sections.length <= maxBlocks) return sections.map(section);
  const kept = sections.slice(0, maxBlocks - 1);
  const shown = kept.reduce((count, text) => count + text.split('\n').length, 0);
  return [...kept.map(section), context(`…and ${lines.length - shown} more`)];
}

/** "the schedule sets 1.00 at Mon 06:00 Europe/Berlin (05:00 UTC)". */
export function scheduleSentence(next: PlannedStream['next_change']): string {
  if (next === null) return 'the schedule does not change it';
  const at = Date.parse(next.at);
  const local = formatLocalInstant(at, next.timezone);
  const weekday = new Date(local.slice(0, 10)).toLocaleDateString('en-GB', {
    weekday: 'short',
    timeZone: 'UTC',
  });
  return `the schedule sets ${formatRate(next.rate)} at ${weekday} ${local.slice(11, 16)} ${next.timezone} (${new Date(at).toISOString().slice(11, 16)} UTC)`;
}

/** The help (its lines: ./commands.ts), after what was not understood, if anything. */
export function helpMessage(help: readonly string[], problem?: string): SlackMessage {
  const lines = problem ? [`I did not understand that: ${problem}.`, '', ...help] : help;
  return {
    response_type: 'ephemeral',
    text: lines.join('\n'),
    blocks: [section(lines.join('\n'))],
  };
}

export function refusalMessage(text: string): SlackMessage {
  return { response_type: 'ephemeral', text, blocks: [section(text)] };
}

export function workingMessage(
  userId: string,
  commandText: string,
  inChannel: boolean,
): SlackMessage {
  const text = inChannel
    ? `<@${userId}> asked for \`/eventstreams ${escapeMrkdwn(commandText)}\`: working on it…`
    : `Working on \`/eventstreams ${escapeMrkdwn(commandText)}\`…`;
  return { response_type: inChannel ? 'in_channel' : 'ephemeral', text, blocks: [section(text)] };
}

export interface Governance {
  rule: string | null;
  window: string | null;
  next: PlannedStream['next_change'];
  /** The override that holds now, if any. */
  override: SamplingOverride | null;
}

/** `2027-03-28 12:30 UTC`: an instant to the minute, in UTC. */
export function utcText(instant: number): string {
  return `${new Date(instant).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * `2027-03-28 14:30 Europe/Berlin (2027-03-28 12:30 UTC)`: in the governing rule's zone and in
 * UTC; in UTC alone when no rule governs the stream.
 */
export function instantText(instant: number, timezone: string | null): string {
  if (timezone === null || timezone === 'UTC') return utcText(instant);
  const local = formatLocalInstant(instant, timezone).slice(0, 16).replace('T', ' ');
  return `${local} ${timezone} (${utcText(instant)})`;
}

/** Who set an override: a Slack user as a mention, anyone else by name (escaped). */
export function actorText(actor: { kind: string; name: string }): string {
  if (actor.kind === 'slack' && /^[UW][A-Z0-9]+$/.test(actor.name)) return `<@${actor.name}>`;
  if (actor.kind === 'http') return `HTTP caller \`${escapeMrkdwn(actor.name)}\``;
  if (actor.kind === 'schedule') return 'the schedule';
  if (actor.kind === 'alertmanager') return `Alertmanager alert \`${escapeMrkdwn(actor.name)}\``;
  if (actor.kind === 'pagerduty') return `PagerDuty incident \`${escapeMrkdwn(actor.name)}\``;
  return `${escapeMrkdwn(actor.kind)} \`${escapeMrkdwn(actor.name)}\``;
}

/** Why a stream is at a rate: the schedule, an override, or the rate it had before. */
function sourceText(source: RateThen['source']): string {
  switch (source) {
    case 'schedule':
      return "the schedule's rate";
    case 'override':
      return "another override's rate";
    case 'restore':
      return 'the rate it had before its overrides';
  }
}

/** `INC-1` → ` — “INC-1”`; nothing when there is no reason. */
function reasonText(reason: string): string {
  return reason ? ` — “${escapeMrkdwn(reason)}”` : '';
}

function overrideLine(override: SamplingOverride): string {
  return `override: *${formatRate(override.sampling_rate)}* until ${utcText(Date.parse(override.expires_at))}, set by ${actorText(override.actor)}${reasonText(override.reason)}`;
}

function governanceText(governance: Governance): string {
  if (governance.rule === null) return 'no schedule rule governs it';
  return `rule \`${governance.rule}\`${governance.window ? ` (window ${governance.window})` : ''}; ${scheduleSentence(governance.next)}`;
}

export function streamMessage(stream: EventStream, governance: Governance): SlackMessage {
  const lines = [
    `*${stream.id}* — ${escapeMrkdwn(stream.description) || '_no description_'}`,
    `event type \`${escapeMrkdwn(stream.event_type)}\` · sampling rate *${formatRate(stream.sampling_rate)}*`,
    `destinations ${stream.destination_ids.map((id) => `\`${escapeMrkdwn(id)}\``).join(', ') || '—'} · fields ${stream.fields.length > 0 ? stream.fields.map((field) => `\`${escapeMrkdwn(field)}\``).join(', ') : '—'}`,
    `schedule: ${governanceText(governance)}`,
    ...(governance.override ? [overrideLine(governance.override)] : []),
  ];
  return {
    response_type: 'ephemeral',
    text: `${stream.id}: sampling rate ${formatRate(stream.sampling_rate)}`,
    blocks: [section(lines.join('\n'))],
  };
}

export function listMessage(
  rows: { stream: EventStream; rule: string | null }[],
  prefix: string | null,
): SlackMessage {
  const title = `${rows.length} Event Streams${prefix !== null ? ` described \`${escapeMrkdwn(prefix)}…\`` : ''}`;
  const lines = rows.map(
    ({ stream, rule }) =>
      `\`${stream.id}\` ${escapeMrkdwn(stream.description) || '_no description_'} — ${escapeMrkdwn(stream.event_type)} · *${formatRate(stream.sampling_rate)}* · ${rule ? `rule \`${rule}\`` : 'no rule'}`,
  );
  return {
    response_type: 'ephemeral',
    text: title,
    blocks: [
      section(`*${title}*`),
      ...sectionsOf(lines.length > 0 ? lines : ['_none_'], MAX_BLOCKS - 1),
    ],
  };
}

export function sampledMessage(
  userId: string,
  stream: EventStream,
  before: number,
  governance: Governance,
): SlackMessage {
  const change =
    before === stream.sampling_rate
      ? `was already ${formatRate(before)}`
      : `${formatRate(before)} → ${formatRate(stream.sampling_rate)}`;
  const text = `<@${userId}> set the sampling rate of *${stream.id}* (${escapeMrkdwn(stream.description) || 'no description'}): ${change}.`;
  const next =
    governance.rule === null
      ? 'No schedule rule governs this stream.'
      : `Rule \`${governance.rule}\`: ${scheduleSentence(governance.next)}.`;
  return { response_type: 'in_channel', text, blocks: [section(text), context(next)] };
}

/** The manual override was set (`sample … for`): who, before → after, until when, and then. */
export function heldMessage(
  userId: string,
  { override, stream, before, afterwards, timezone }: SetResult,
): SlackMessage {
  const change =
    before === stream.sampling_rate
      ? `was already ${formatRate(before)}`
      : `${formatRate(before)} → ${formatRate(stream.sampling_rate)}`;
  const text = `<@${userId}> set the sampling rate of *${stream.id}* (${escapeMrkdwn(stream.description) || 'no description'}) to ${formatRate(override.sampling_rate)} for ${formatDuration(override.expires_at - override.starts_at)}: ${change}, until ${instantText(override.expires_at, timezone)}.`;
  const then =
    afterwards === null
      ? 'Then the service leaves it as it is.'
      : `Then it goes to ${formatRate(afterwards.sampling_rate)}, ${sourceText(afterwards.source)}.`;
  const reason = override.reason ? `Reason: ${escapeMrkdwn(override.reason)}. ` : '';
  return {
    response_type: 'in_channel',
    text,
    blocks: [section(text), context(`${reason}${then} \`release ${stream.id}\` ends it sooner.`)],
  };
}

/** The manual override was ended (`release`): who, and the rate now. */
export function releasedMessage(
  userId: string,
  { ended, stream, before, now }: EndResult,
): SlackMessage {
  const change =
    before === stream.sampling_rate
      ? `stays at ${formatRate(before)}`
      : `${formatRate(before)} → ${formatRate(stream.sampling_rate)}`;
  const why = now === null ? 'the service leaves it as it is' : sourceText(now.source);
  const text = `<@${userId}> ended the override of *${stream.id}* (${escapeMrkdwn(stream.description) || 'no description'}): ${change}, ${why}.`;
  return {
    response_type: 'in_channel',
    text,
    blocks: [
      section(text),
      context(
        `It held ${formatRate(ended.sampling_rate)}, set by ${actorText(ended.actor)}${reasonText(ended.reason)}.`,
      ),
    ],
  };
}

/** `release` of a stream with no manual override: nothing to do, and nothing changed. */
export function noOverrideMessage(userId: string, streamId: string): SlackMessage {
  const text = `<@${userId}> asked to end the override of *${streamId}*: it has none that holds or is to come, so nothing changed.`;
  return { response_type: 'in_channel', text, blocks: [section(text)] };
}

function listedLine(override: ListedOverride): string {
  const expires = utcText(Date.parse(override.expires_at));
  const when =
    override.state === 'holding'
      ? `until ${expires}`
      : `from ${utcText(Date.parse(override.starts_at))} until ${expires} (to come)`;
  const key = override.key === 'manual' ? '' : ` (\`${escapeMrkdwn(override.key)}\`)`;
  const effective =
    override.effective_rate === null || override.effective_source === null
      ? 'the stream was not found'
      : `now *${formatRate(override.effective_rate)}*, ${sourceText(override.effective_source).replace('another ', 'an ')}`;
  return `\`${override.stream_id}\`${key} *${formatRate(override.sampling_rate)}* ${when} · ${actorText(override.actor)}${reasonText(override.reason)} · ${effective}`;
}

/** `overrides`: what holds or is to come, soonest end first. */
export function overridesMessage(overrides: ListedOverride[]): SlackMessage {
  const title =
    overrides.length === 0
      ? 'No sampling override holds or is to come'
      : overrides.length === 1
        ? '1 sampling override holds or is to come'
        : `${overrides.length} sampling overrides hold or are to come`;
  return {
    response_type: 'ephemeral',
    text: title,
    blocks: [
      section(`*${title}*`),
      ...(overrides.length > 0 ? sectionsOf(overrides.map(listedLine), MAX_BLOCKS - 1) : []),
    ],
  };
}

function planLine(stream: PlannedStream): string {
  const rates =
    stream.action === 'none' || stream.action === 'unchanged'
      ? `${formatRate(stream.current_rate)} (as it should be)`
      : `${formatRate(stream.current_rate)} → ${formatRate(stream.desired_rate)}`;
  const failed =
    stream.action === 'failed' ? ` — *failed*: ${escapeMrkdwn(stream.error ?? '')}` : '';
  return `\`${stream.id}\` ${escapeMrkdwn(stream.description)} — ${rates}, rule \`${stream.rule}\`${stream.window ? ` (${stream.window})` : ''}; next: ${scheduleSentence(stream.next_change)}${failed}`;
}

export function planMessage(at: number, streams: PlannedStream[], summary: Summary): SlackMessage {
  const title = `Sampling plan at ${formatLocalInstant(at, 'UTC').slice(0, 16).replace('T', ' ')} UTC: ${summary.change} to change, ${summary.none} as they should be`;
  return {
    response_type: 'ephemeral',
    text: title,
    blocks: [
      section(`*${title}*`),
      ...sectionsOf(
        streams.length > 0 ? streams.map(planLine) : ['_no stream is governed by the schedule_'],
        MAX_BLOCKS - 1,
      ),
    ],
  };
}

export function appliedMessage(
  userId: string,
  streams: PlannedStream[],
  summary: Summary,
): SlackMessage {
  const title = `<@${userId}> applied the sampling schedule: ${summary.changed} changed, ${summary.unchanged} unchanged, ${summary.failed} failed.`;
  const lines = streams.filter((stream) => stream.action !== 'unchanged').map(planLine);
  return {
    response_type: 'in_channel',
    text: title,
    blocks: [section(title), ...(lines.length > 0 ? sectionsOf(lines, MAX_BLOCKS - 1) : [])],
  };
}

export function failureMessage(what: string, requestId: string): SlackMessage {
  const text = `${escapeMrkdwn(what.replace(/\.$/, ''))} (request ${escapeMrkdwn(requestId)}).`;
  return { response_type: 'ephemeral', text, blocks: [section(text)] };
}
