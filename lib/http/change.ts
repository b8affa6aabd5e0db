/**
 * A change to an Event Stream made by an HTTP caller: the ngrok calls (lib/call-ngrok.ts) and
 * its audit line (lib/observability/audit.ts), with the caller as actor, success or failure.
 */
import { callNgrok } from '../call-ngrok.ts';
import type { ApiContext } from '../middleware/types.ts';
import type { NgrokClient } from '../ngrok/client.ts';
import type { CallOptions } from '../ngrok/transport.ts';
import { type AuditAction, audited, type ChangeResult } from '../observability/audit.ts';

export async function changeEventStream<T>(
  context: ApiContext,
  change: { action: AuditAction; streamId?: string },
  call: (ngrok: NgrokClient, options: CallOptions) => Promise<ChangeResult<T>>,
): Promise<T> {
  return audited(
    {
      actor: { kind: 'http', name: context.callerName },
      action: change.action,
      stream_id: change.streamId,
    },
    async () => {
      const done = await callNgrok(context, call);
      if (done.stream_id !== undefined) context.record.streamId = done.stream_id;
      return done;
    },
  );
}
