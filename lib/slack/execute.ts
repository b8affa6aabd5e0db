/**
 * What each `/eventstreams` command does against ngrok, and the message that says so. Shared by
 * the command function (what fits in Slack's 3 seconds) and the worker (the rest): the same
 * command gives the same answer whichever runs it.
 */
import type { EventStream } from '../ngrok/schemas.ts';
import { type Actor, audited, changedFields } from '../observability/audit.ts';
import { governingRule } from '../sampling/evaluate.ts';
import { apply, listStreams, plan, planOf, type Run } from '../sampling/run.ts';
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

/** Who runs the command, and how far. */
export interface Caller {
  /** The Slack user and workspace. */
  actor: Actor;
  /** The worker reads every page; the command function only the first. */
  allPages: boolean;
}

function governanceOf(run: Run, stream: EventStream, now: number): Governance {
  const planned = planOf(run, stream, now);
  if (!planned) return { rule: null, window: null, next: null };
  return { rule: planned.rule, window: planned.window, next: planned.next_change };
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

export async function execute(command: Command, run: Run, caller: Caller): Promise<SlackMessage> {
  const now = Date.now();
  switch (command.kind) {
    case 'help':
      return helpMessage();
    case 'invalid':
      return helpMessage(command.reason);
    case 'get': {
      const stream = await run.ngrok.eventStreams.get(command.id, run.call);
      return streamMessage(stream, governanceOf(run, stream, now));
    }
    case 'list': {
      const streams = (await allStreams(run, caller)).filter(
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
          actor: caller.actor,
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
      return sampledMessage(caller.actor.name, after, before, governanceOf(run, after, now));
    }
    case 'plan': {
      const at = command.at ?? now;
      const { streams, summary } = await plan(run, at);
      return planMessage(at, streams, summary);
    }
    case 'apply': {
      const { streams, summary } = await apply(run, now, { actor: caller.actor, cause: 'apply' });
      return appliedMessage(caller.actor.name, streams, summary);
    }
  }
}
