/**
 * Caller tokens: random, shown once, stored only as their SHA-256. Comparison is constant-time
 * and visits every caller, so timing tells nothing about which hash came close.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Caller } from '../secrets/service-secret.ts';

const TOKEN_PREFIX = 'nes_';

/** A new bearer token: 32 random bytes, base64url, with a prefix that makes it easy to spot. */
export function newCallerToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** What the secret stores for a token (`token_sha256`). */
export function sha256Hex(token: string): string {
  return sha256(token).toString('hex');
}

/** The caller whose token this is, or undefined. */
export function findCaller(callers: readonly Caller[], token: string): Caller | undefined {
  const presented = sha256(token);
  let found: Caller | undefined;
  for (const caller of callers) {
    const stored = Buffer.from(caller.token_sha256, 'hex');
    if (stored.length === presented.length && timingSafeEqual(stored, presented) && !found) {
      found = caller;
    }
  }
  return found;
}
