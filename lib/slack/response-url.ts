/**
 * Slack's `response_url`: where the result of a command that took longer is posted. Only URLs
 * under an allowed prefix are ever posted to — `https://hooks.slack.com/` unless
 * SLACK_RESPONSE_URL_PREFIXES (comma-separated) says otherwise (the local stack: its sandbox's
 * catcher) — and every one is registered for redaction: whoever holds it can post to a channel.
 */
import { request } from 'undici';
import { registerSecretValue } from '../observability/redact.ts';

export const DEFAULT_RESPONSE_URL_PREFIXES = ['https://hooks.slack.com/'];
/** Slack takes at most 5 posts to a response_url, within 30 minutes. */
export const MAX_POSTS = 5;
const POST_TIMEOUT_MS = 5_000;

export function responseUrlPrefixes(): string[] {
  const configured = process.env.SLACK_RESPONSE_URL_PREFIXES;
  if (!configured) return DEFAULT_RESPONSE_URL_PREFIXES;
  return configured
    .split(',')
    .map((prefix) => prefix.trim())
    .filter(Boolean);
}

/** Whether the service may post to this URL: parsed, no credentials, under an allowed prefix. */
export function isAllowedResponseUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) return false;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  // Compared as parsed and re-serialised: no `..`, no encoded tricks left to resolve later.
  return responseUrlPrefixes().some(
    (prefix) => url.href.startsWith(prefix) && url.href.length > prefix.length,
  );
}

export class ResponseUrlError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResponseUrlError';
  }
}

/** Posts a message; throws ResponseUrlError (never with the URL in it) unless Slack took it. */
export async function postToResponseUrl(responseUrl: string, message: unknown): Promise<void> {
  registerSecretValue(responseUrl);
  if (!isAllowedResponseUrl(responseUrl)) {
    throw new ResponseUrlError('The response_url is not on an allowed origin: nothing was posted.');
  }
  let status: number;
  try {
    const answer = await request(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    status = answer.statusCode;
    await answer.body.dump();
  } catch (cause) {
    throw new ResponseUrlError('Slack could not be reached at the response_url.', { cause });
  }
  if (status < 200 || status >= 300) {
    throw new ResponseUrlError(`Slack refused the post to the response_url (HTTP ${status}).`);
  }
}
