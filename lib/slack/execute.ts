/**
 * What each `/eventstreams` command does against ngrok, and the message that says so. Shared by
 * the command function (what fits in Slack's 3 seconds) and the worker (the rest): the same
 * command gives the same answer whichever runs it.
 */
import type { NgrokClient } from '../ngrok/client.ts';
import type { EventStream } from '../ngrok/schemas.ts';
import type { CallOptions } from '../ngrok/transport.ts';
import { type Actor, audited, changedFields } from '../observability/audit.ts';
import { governingRule } from '../sampling/evaluate.ts';
import type { Pacer } from '../sampling/pace.ts';
import { applyPlan, governedStreams, planStream, summarize } from '../sampling/run.ts';
import type { Policy } from '../sampling/types.ts';
import type { Command } from './command.ts';
import {
  appliedMessage,
  type Governance,
  helpMessage,
  listMessage,
  planMessage,
  type SlackMessage,
  sampledMessage,
  streamMessage,
} from './messages.ts';

/** The command needs more than one page (or more time): the worker does it. */
export class NeedsWorker extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NeedsWorker';
  }
}

export interface CommandRun {
  ngrok: NgrokClient;
  call: CallOptions;
  pacer: Pacer;
  deadline: number;
  policy: Policy;
  /** The Slack user and workspace. */
  actor: Actor;
  /** The worker reads every page; the command function only the first. */
  allPages: boolean;
}

function governanceOf(policy: Policy, stream: EventStream, now: number): Governance {
  const rule = governingRule(policy, stream);
  if (!rule) return { rule: null, window: null, next: null };
  const planned = planStream({ stream, rule }, now);
  return { rule: rule.name, window: planned.window, next: planned.next_change };
}

async function allStreams(run: CommandRun): Promise<EventStream[]> {
  const streams: EventStream[] = [];
  let beforeId: string | undefined;
  for (;;) {
    if (!(await run.pacer.turn(run.deadline))) throw new NeedsWorker('the list takes longer');
    const page = await run.ngrok.eventStreams.list(
      { limit: 100, ...(beforeId ? { before_id: beforeId } : {}) },
      run.call,
    );
    streams.push(...page.event_streams);
    const last = page.event_streams.at(-1);
    if (page.next_page_uri === null || last === undefined) return streams;
    if (!run.allPages) throw new NeedsWorker('the list has more than one page');
    beforeId = last.id;
  }
}

export async function execute(command: Command, run: CommandRun): Promise<SlackMessage> {
  const now = Date.now();
  switch (command.kind) {
    case 'help':
      return helpMessage();
    case 'invalid':
      return helpMessage(command.reason);
    case 'get': {
      const stream = await run.ngrok.eventStreams.get(command.id, run.call);
      return streamMessage(stream, governanceOf(run.policy, stream, now));
    }
    case 'list': {
      const streams = (await allStreams(run)).filter(
        (stream) => command.prefix === null || stream.description.startsWith(command.prefix),
      );
      return listMessage(
        streams.map((stream) => ({
          stream,
          rule: governingRule(run.policy, stream)?.name ?? null,
        })),
        command.prefix,
      );
    }
    case 'sample': {
      const { before, after } = await audited(
        {
          actor: run.actor,
          action: 'event_stream.update',
          stream_id: command.id,
          context: { cause: 'slack', command: 'sample' },
        },
        async () => {
          const current = await run.ngrok.eventStreams.get(command.id, run.call);
          const updated = await run.ngrok.eventStreams.update(
            command.id,
            { sampling_rate: command.rate },
            run.call,
          );
          return {
            result: { before: current.sampling_rate, after: updated },
            changes: changedFields(current, updated, ['sampling_rate']),
          };
        },
      );
      return sampledMessage(run.actor.name, after, before, governanceOf(run.policy, after, now));
    }
    case 'plan': {
      const at = command.at ?? now;
      const planned = (await governedStreams(run.policy, run)).map((each) => planStream(each, at));
      return planMessage(at, planned, summarize(planned));
    }
    case 'apply': {
      const planned = (await governedStreams(run.policy, run)).map((each) => planStream(each, now));
      await applyPlan(planned, run, { actor: run.actor, cause: 'apply' });
      return appliedMessage(run.actor.name, planned, summarize(planned));
    }
  }
}
