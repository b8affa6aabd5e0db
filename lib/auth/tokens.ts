/**
 * Caller tokens: random, shown once, stored only as their SHA-256. Comparison is constant-time
 * and visits every caller, so timing tells nothing about which hash came close.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Caller } from '../secrets/service-secret.ts';

const TOKEN_PREFIX = 'nes_';

/** A new bearer token: 32 random bytes, base64url, with a prefix that makes it easy to spot. */
export function newCallerToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

function sha256(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/** The callers' hashes as bytes, decoded once per secret read (the list is the cached one). */
const decoded = new WeakMap<readonly Caller[], Buffer[]>();

function storedHashes(callers: readonly Caller[]): Buffer[] {
  let hashes = decoded.get(callers);
  if (hashes === undefined) {
    hashes = callers.map((caller) => Buffer.from(caller.token_sha256, 'hex'));
    decoded.set(callers, hashes);
  }
  return hashes;
}

/** What the secret stores for a token (`token_sha256`). */
export function sha256Hex(token: string): string {
  return sha256(token).toString('hex');
}

/** The caller whose token this is, or undefined. */
export function findCaller(callers: readonly Caller[], token: string): Caller | undefined {
  const presented = sha256(token);
  const hashes = storedHashes(callers);
  let found: Caller | undefined;
  callers.forEach((caller, index) => {
    const stored = hashes[index] as Buffer;
    if (stored.length === presented.length && timingSafeEqual(stored, presented) && !found) {
      found = caller;
    }
  });
  return found;
}
