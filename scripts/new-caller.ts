/**
 * `npm run secret:new -- --name <caller> [--scopes read,write]`: makes a bearer token for an HTTP
 * caller, prints it once, and prints the JSON to store in the service's Secrets Manager secret
 * (the token's SHA-256 only: the service never holds the token itself).
 */
import { parseArgs } from 'node:util';
import { newCallerToken, sha256Hex } from '../lib/auth/tokens.ts';
import { SCOPES, type Scope } from '../lib/secrets/service-secret.ts';

function fail(message: string): never {
  console.error(`${message}\nUsage: npm run secret:new -- --name <caller> [--scopes read,write]`);
  process.exit(2);
}

let values: { name?: string; scopes?: string };
try {
  ({ values } = parseArgs({
    options: { name: { type: 'string' }, scopes: { type: 'string', default: 'read,write' } },
  }));
} catch (error) {
  fail((error as Error).message);
}
const name =
  values.name ?? fail('--name is required: who is this token for (e.g. "ci", "incident-bot")?');
if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
  fail('--name may hold letters, digits, ".", "_" and "-" (at most 64).');
}
const scopes = [...new Set((values.scopes ?? '').split(',').map((scope) => scope.trim()))];
for (const scope of scopes) {
  if (!(SCOPES as readonly string[]).includes(scope)) {
    fail(`Unknown scope '${scope}': use ${SCOPES.join(' and/or ')}.`);
  }
}

const token = newCallerToken();
const caller = { name, token_sha256: sha256Hex(token), scopes: scopes as Scope[] };
const wholeSecret = { ngrok_api_key: '<your ngrok API key>', callers: [caller] };

console.log(`Bearer token for "${name}" (shown only now; give it to the caller, keep no copy):

  ${token}

Add this entry to "callers" in the service's secret:

  ${JSON.stringify(caller)}

Or, for a new secret, store this (with your ngrok API key) in Secrets Manager:

  ${JSON.stringify(wholeSecret)}
`);
