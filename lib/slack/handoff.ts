/**
 * Hands a command that may take longer than Slack's 3 seconds to the worker function: an
 * asynchronous Lambda invoke (`InvocationType: Event`), which returns as soon as Lambda has
 * queued the event. The client is imported by name, statically: esbuild then keeps the one
 * command (a lazily imported module keeps every export of the package: 30 KiB more to compile).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import * as z from 'zod/mini';
import { settings } from '../settings.ts';

/** What the worker gets: the command as Slack sent it, and where to answer. */
export const WorkerEvent = z.strictObject({
  /** The slash command's request id: the worker's idempotency key and correlation id. */
  request_id: z.string().check(z.minLength(1)),
  text: z.string(),
  user_id: z.string().check(z.minLength(1)),
  team_id: z.string().check(z.minLength(1)),
  channel_id: z.string(),
  response_url: z.string(),
});
export type WorkerEvent = z.infer<typeof WorkerEvent>;

/** Lambda queues an asynchronous invoke in tens of ms; beyond this, Slack's 3 s are at risk. */
const INVOKE_TIMEOUT_MS = 500;
let client: LambdaClient | undefined;

export async function handOff(event: WorkerEvent): Promise<void> {
  client ??= new LambdaClient({});
  await client.send(
    new InvokeCommand({
      FunctionName: settings.slackWorkerFunction(),
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify(event)),
    }),
    { abortSignal: AbortSignal.timeout(INVOKE_TIMEOUT_MS) },
  );
}
