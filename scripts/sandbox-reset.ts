/**
 * `npm run sandbox:reset`: the running local stack's sandbox as `npm start` left it — its Event
 * Streams and Destinations emptied, the sample destinations and stream seeded again, faults and
 * the request log cleared — without a restart (the secret, the token and the tables stay). The
 * stack is the one on PORT, or the only one running in this folder.
 */
import { findLocalStack } from './local-stack.ts';

const found = findLocalStack();
if ('problem' in found) {
  console.error(found.problem);
  process.exit(1);
}
const { state } = found;
if (!state.samples) {
  console.error(
    `The stack on PORT ${state.port} talks to the real ngrok API (NGROK_API_KEY): it has no sandbox samples to bring back.`,
  );
  process.exit(1);
}
const answer = await fetch(`${state.sandboxUrl}/_sandbox/reset`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ samples: true }),
}).catch((error: Error) => error);
if (answer instanceof Error || !answer.ok) {
  console.error(
    `The sandbox of the stack on PORT ${state.port} (${state.sandboxUrl}) did not reset: ${answer instanceof Error ? answer.message : `HTTP ${answer.status}`}.`,
  );
  process.exit(1);
}
const { samples } = (await answer.json()) as {
  samples: { event_destinations: string[]; event_stream: string };
};
console.log(`The sandbox of the stack on PORT ${state.port} is as it started:
  destination ids:  ${samples.event_destinations.join(', ')}
  sample stream:    ${samples.event_stream}`);
