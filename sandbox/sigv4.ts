/**
 * AWS Signature Version 4, checked as AWS does (from "Create a signed AWS API request" and
 * "Elements of an AWS API request signature"): the canonical request, the string to sign, the
 * signing key derived from the secret access key, the date and scope, and a signature compared
 * in constant time. The sandbox's AWS stand-ins (Secrets Manager, DynamoDB, Lambda) answer only
 * requests signed with the credentials the local stack gives its functions — so another local
 * process, or a web page, cannot read the service's secret.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  rawPath: string;
  /** The query string as sent, without `?`. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type SignatureVerdict =
  | { ok: true; service: string }
  | { ok: false; status: number; type: string; message: string };

const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, text: string) =>
  createHmac('sha256', key).update(text).digest();

/** RFC 3986 encoding, as SigV4 wants: unreserved characters only are left as they are. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The path, each segment encoded (twice: every service but S3), as the signer saw it. */
function canonicalUri(rawPath: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  return path
    .split('/')
    .map((segment) => encode(encode(safeDecode(segment))))
    .join('/');
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [name = '', ...rest] = pair.split('=');
      return [encode(safeDecode(name)), encode(safeDecode(rest.join('=')))] as const;
    })
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function headerValue(value: string | string[] | undefined): string {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.map((each) => each.trim().replace(/\s+/g, ' ')).join(',');
}

/** `20261127T180000Z` → ms since the epoch. */
function parseAmzDate(text: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
}

export function verifySigV4(
  request: SignedRequest,
  credentials: AwsCredentials,
  now = Date.now(),
): SignatureVerdict {
  const authorization = headerValue(request.headers.authorization);
  const parts = AUTHORIZATION.exec(authorization);
  if (!parts) {
    return {
      ok: false,
      status: 400,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  }
  const [, accessKeyId, date, region, service, signedHeadersText, signature] =
    parts as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId) {
    return {
      ok: false,
      status: 403,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  const amzDate = headerValue(request.headers['x-amz-date']);
  const signedAt = parseAmzDate(amzDate);
  if (Number.isNaN(signedAt) || !amzDate.startsWith(date as string)) {
    return {
      ok: false,
      status: 403,
      type: 'IncompleteSignatureException',
      message: 'The request must carry an X-Amz-Date matching its credential scope.',
    };
  }
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return {
      ok: false,
      status: 403,
      type: 'InvalidSignatureException',
      message: 'Signature expired: the request time is more than 15 minutes from the server time.',
    };
  }
  const signedHeaders = (signedHeadersText as string).split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    return {
      ok: false,
      status: 403,
      type: 'IncompleteSignatureException',
      message: 'The request must sign the host and x-amz-date headers.',
    };
  }
  const declaredHash = headerValue(request.headers['x-amz-content-sha256']);
  const bodyHash = sha256(request.body);
  if (declaredHash && declaredHash !== 'UNSIGNED-PAYLOAD' && declaredHash !== bodyHash) {
    return {
      ok: false,
      status: 403,
      type: 'InvalidSignatureException',
      message: 'The provided x-amz-content-sha256 header does not match what was computed.',
    };
  }
  const canonicalRequest = [
    request.method,
    canonicalUri(request.rawPath),
    canonicalQuery(request.rawQuery),
    ...signedHeaders.map((name) => `${name}:${headerValue(request.headers[name])}`),
    '',
    signedHeaders.join(';'),
    declaredHash || bodyHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(
      hmac(hmac(`AWS4${credentials.secretAccessKey}`, date as string), region as string),
      service as string,
    ),
    'aws4_request',
  );
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(signature as string);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return {
      ok: false,
      status: 403,
      type: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return { ok: true, service: service as string };
}
