/**
 * `npm run secret:new -- --name <caller> [--scopes read,write] [--out secret.json [--force]]`:
 * makes a bearer token for an HTTP caller and prints it once, with the JSON to store in the
 * service's Secrets Manager secret (the token's SHA-256 only: the service never holds the token).
 * With --out, writes the whole secret to that file (mode 600) for `aws secretsmanager
 * create-secret --secret-string file://…`; the ngrok API key comes from NGROK_API_KEY if set.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { newCallerToken, sha256Hex } from '../lib/auth/tokens.ts';
import { SCOPES, type Scope } from '../lib/secrets/service-secret.ts';

const USAGE = `Usage: npm run secret:new -- --name <caller> [--scopes read,write] [--out <file> [--force]]

Makes a bearer token for a caller of the HTTP API, prints it once, and prints the caller's
entry for the "callers" list of the service's secret (only the token's SHA-256 is stored).

  --name <caller>     who the token is for: letters, digits, ".", "_", "-" (at most 64)
  --scopes <list>     read, write, alerts, comma-separated (default: read,write);
                      alerts: the alert webhooks alone (Alertmanager's or Grafana's token)
  --out <file>        also write the whole secret to <file> (mode 600), ready for
                        aws secretsmanager create-secret --region <region> \\
                          --name ngrok-event-streams-<stage> \\
                          --secret-string file://<file>
                      The ngrok API key is taken from NGROK_API_KEY if set; else edit the file.
  --force             overwrite <file> if it exists
  --help              this text`;

const PLACEHOLDER_KEY = '<your ngrok API key>';

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let values: { name?: string; scopes?: string; out?: string; force?: boolean; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      name: { type: 'string' },
      scopes: { type: 'string', default: 'read,write' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
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
if (values.out !== undefined && existsSync(values.out) && !values.force) {
  fail(`${values.out} exists: not overwritten (add --force to replace it).`);
}

const token = newCallerToken();
const caller = { name, token_sha256: sha256Hex(token), scopes: scopes as Scope[] };
const ngrokApiKey = process.env.NGROK_API_KEY || PLACEHOLDER_KEY;
const wholeSecret = { ngrok_api_key: ngrokApiKey, callers: [caller] };

// The file first: if it cannot be written, nothing is printed, and no token is lost with it.
if (values.out !== undefined) {
  try {
    writeFileSync(values.out, `${JSON.stringify(wholeSecret, null, 2)}\n`, {
      mode: 0o600,
      flag: values.force ? 'w' : 'wx',
    });
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    const folder = dirname(resolve(values.out));
    fail(
      code === 'ENOENT'
        ? `${values.out} cannot be written: the folder ${folder} does not exist. Make it first, or choose another --out. No token was made.`
        : code === 'EEXIST'
          ? `${values.out} exists: not overwritten (add --force to replace it).`
          : `${values.out} cannot be written (${code ?? (error as Error).message}). No token was made.`,
    );
  }
}

console.log(`Bearer token for "${name}" (shown only now; give it to the caller, keep no copy):

  ${token}

Add this entry to "callers" in the service's secret:

  ${JSON.stringify(caller)}
`);

if (values.out === undefined) {
  console.log(`Or, for a new secret, store this (with your ngrok API key) in Secrets Manager:

  ${JSON.stringify({ ...wholeSecret, ngrok_api_key: PLACEHOLDER_KEY })}
`);
} else {
  console.log(`Wrote the whole secret to ${values.out}${
    ngrokApiKey === PLACEHOLDER_KEY
      ? `; put your ngrok API key in it first (or run again with NGROK_API_KEY set).`
      : ', with the ngrok API key from NGROK_API_KEY.'
  }
Then store it, and delete the file:

  aws secretsmanager create-secret --region <region> --name ngrok-event-streams-<stage> --secret-string file://${values.out}
  rm ${values.out}
`);
}
