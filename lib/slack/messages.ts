/**
 * The Slack messages of the `/eventstreams` command, in Block Kit (typed with @slack/types), kept
 * within Slack's limits: at most 50 blocks a message and 3,000 characters a section; longer lists
 * end with "…and N more". Pure: text only, no ngrok, no Slack.
 */
import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { EventStream } from '../ngrok/schemas.ts';
import { formatLocalInstant } from '../sampling/zone.ts';
import type { PlannedStream, Summary } from '../schemas/sampling-api.ts';

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
