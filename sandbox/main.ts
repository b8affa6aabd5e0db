/**
 * `npm run sandbox`: the ngrok API and Secrets Manager sandbox on its own.
 * SANDBOX_PORT (default 4010), SANDBOX_API_KEY (default: random, printed),
 * SANDBOX_RATE_LIMIT=off to turn the 120 requests / 60 s limit off.
 */
import { seedSamples, startSandbox } from './server.ts';

const port = Number(process.env.SANDBOX_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`SANDBOX_PORT must be a port number; got '${process.env.SANDBOX_PORT}'.`);
  process.exit(2);
}
const apiKey = process.env.SANDBOX_API_KEY;
const verbose = process.env.SANDBOX_QUIET === undefined;

const sandbox = await startSandbox({
  port,
  ...(apiKey ? { apiKeys: [apiKey] } : {}),
  ...(process.env.SANDBOX_RATE_LIMIT === 'off' ? { rateLimit: false as const } : {}),
  log: verbose ? (line) => console.log(`[sandbox] ${line}`) : undefined,
}).catch((error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${port} is in use: set SANDBOX_PORT to a free port.`
      : `The sandbox could not start: ${error.message}`,
  );
  process.exit(1);
});

const { destinationIds, eventStreamId } = seedSamples(sandbox.state);

console.log(`ngrok API sandbox listening on ${sandbox.url}
  API key:          ${sandbox.apiKey}
  destinations:     ${destinationIds.join(', ')}
  sample stream:    ${eventStreamId}
  Secrets Manager:  AWS_ENDPOINT_URL_SECRETS_MANAGER=${sandbox.url}
  control surface:  ${sandbox.url}/_sandbox/
Try: curl -H "Authorization: Bearer ${sandbox.apiKey}" -H "Ngrok-Version: 2" ${sandbox.url}/event_streams
Ctrl-C stops it.`);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
// Also when whatever started it goes away without a signal reaching it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();
