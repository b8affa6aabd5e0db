/**
 * The way in to a sampling run: `samplingRun(context, work, time)` builds, inside one ngrok call
 * of the invocation (its key from the service's secret, one retry with a fresh key on a 401), the
 * run's client, call options, pacer and deadline and the bundled policy, and hands them to `work`
 * — `(run) => plan(run, at)`, `(run) => apply(run, at, …)` (./run.ts), or a chat command.
 *
 * Every run reads the stored overrides first (lib/overrides/store.ts): the effective rate needs them.
 *
 * The run's deadline is the Lambda's (less the time ../call-ngrok.ts keeps to answer): `reserve`
 * keeps time back for what the caller does after the run (the Slack worker's post), `stopEarly`
 * starts no request that much sooner but lets one already started finish (the boundary run's last
 * line), `until` ends the run by an instant (Slack's 3 seconds).
 */
import { callNgrok, type NgrokCallContext } from '../call-ngrok.ts';
import { allOverrides } from '../overrides/store.ts';
import { settings } from '../settings.ts';
import { bundledPolicy } from './bundled.ts';
import { Pacer } from './pace.ts';
import type { Run } from './run.ts';

export interface RunTime {
  /** ms kept back from the Lambda's deadline: neither the run nor any request of it uses them. */
  reserve?: number;
  /** ms before that deadline after which the run starts no request (one started may finish). */
  stopEarly?: number;
  /** An instant the run, and each of its requests, is over by, if sooner. */
  until?: number;
}

export function samplingRun<T>(
  context: NgrokCallContext,
  work: (run: Run) => Promise<T>,
  time: RunTime = {},
): Promise<T> {
  return callNgrok(context, async (ngrok, call) => {
    const end = (call.deadline ?? Date.now()) - (time.reserve ?? 0);
    const deadline = Math.min(end, time.until ?? end);
    // A run that cannot read the overrides sets nothing: it could undo one (503).
    const overrides = await allOverrides();
    return work({
      ngrok,
      call: { ...call, deadline },
      pacer: new Pacer(settings.samplingRequestsPerMinute()),
      deadline: deadline - (time.stopEarly ?? 0),
      policy: bundledPolicy(),
      overrides,
    });
  });
}
