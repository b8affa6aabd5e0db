import { randomBytes } from 'node:crypto';

/**
 * ngrok ids are a prefix plus a 27-character base62 KSUID: 4 bytes of seconds since the KSUID
 * epoch, then 16 random bytes (docs/ngrok-api.md §6). They sort by creation time as strings.
 * Ids made in the same second would sort randomly, so each new id is made strictly greater than
 * the last one: newest-first listing then matches creation order exactly.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KSUID_EPOCH_SECONDS = 1_400_000_000;
const KSUID_LENGTH = 27;
const PAYLOAD_BITS = 128n;

let lastKsuid = 0n;

function toBase62(value: bigint): string {
  let text = '';
  let rest = value;
  while (rest > 0n) {
    text = BASE62[Number(rest % 62n)] + text;
    rest /= 62n;
  }
  return text.padStart(KSUID_LENGTH, '0');
}

export function newKsuid(now = Date.now()): string {
  const seconds = BigInt(Math.floor(now / 1000) - KSUID_EPOCH_SECONDS);
  const payload = BigInt(`0x${randomBytes(16).toString('hex')}`);
  let value = (seconds << PAYLOAD_BITS) | payload;
  if (value <= lastKsuid) value = lastKsuid + 1n;
  lastKsuid = value;
  return toBase62(value);
}

export function newId(prefix: 'es' | 'ed' | 'op'): string {
  return `${prefix}_${newKsuid()}`;
}

const ID_SHAPE = /^(es|ed)_[0-9A-Za-z]{27}$/;

/** True when `id` has the given prefix and a well-formed KSUID after it. */
export function isWellFormedId(id: string, prefix: 'es' | 'ed'): boolean {
  return ID_SHAPE.test(id) && id.startsWith(`${prefix}_`);
}
