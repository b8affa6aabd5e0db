/**
 * Slack's `response_url`: where the result of a command that took longer is posted. Only URLs
 * under an allowed prefix are ever posted to — `https://hooks.slack.com/` unless
 * SLACK_RESPONSE_URL_PREFIXES (comma-separated) says otherwise (the local stack: its sandbox's
 * catcher). The logger redacts them by their shape: whoever holds one can post to a channel.
 */
import { request, sharedAgent } from '../http-client/undici.ts';
import { settings } from '../settings.ts';

/** Slack takes at most 5 posts to a response_url, within 30 minutes. */
export const MAX_POSTS = 5;
const POST_TIMEOUT_MS = 5_000;

function parse(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether the service may post to this URL: parsed, no credentials, the same origin as an
 * allowed prefix and under its path (a prefix is a folder — `https://hooks.slack.com/` — never a
 * lookalike host such as hooks.slack.com.evil.example).
 */
export function isAllowedResponseUrl(text: string): boolean {
  const url = parse(text);
  if (!url || url.username || url.password || url.hash) return false;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  return settings.slackResponseUrlPrefixes().some((configured) => {
    const prefix = parse(configured.endsWith('/') ? configured : `${configured}/`);
    return (
      prefix !== undefined &&
      url.origin === prefix.origin &&
      url.pathname.startsWith(prefix.pathname) &&
      url.pathname.length > prefix.pathname.length
    );
  });
}

export class ResponseUrlError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResponseUrlError';
  }
}

/** Not a URL this service may post to: trying again would not help. */
export class ResponseUrlRefused extends ResponseUrlError {
  constructor() {
    super('The response_url is not on an allowed origin: nothing was posted.');
    this.name = 'ResponseUrlRefused';
  }
}

/** Posts a message; throws ResponseUrlError (never with the URL in it) unless Slack took it. */
export async function postToResponseUrl(responseUrl: string, message: unknown): Promise<void> {
  if (!isAllowedResponseUrl(responseUrl)) throw new ResponseUrlRefused();
  let status: number;
  try {
    const url = new URL(responseUrl);
    const answer = await request(sharedAgent(), {
      origin: url.origin,
      path: url.pathname + url.search,
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
