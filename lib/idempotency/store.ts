/**
 * The records of Idempotency-Keys in DynamoDB (IDEMPOTENCY_KEYS_TABLE), every write
 * conditional: a key is claimed only if no live record holds it; an attempt changes the record
 * only while it still holds it (its `attempt` id), so a retry that took over a lost attempt's
 * key can never be overwritten by that attempt coming back late. Expired records count as
 * absent whether or not DynamoDB's TTL has removed them yet.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { settings } from '../settings.ts';
import type { KeyRecord, StoredResponse } from './key.ts';

/** A write to the table may take this long before the request fails instead of hanging. */
const WRITE_TIMEOUT_MS = 1_500;

type Item = Record<string, AttributeValue>;

let client: DynamoDBClient | undefined;

function send<T>(command: { input: unknown }): Promise<T> {
  client ??= new DynamoDBClient({});
  return client.send(command as never, {
    abortSignal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
  }) as Promise<T>;
}

const NAMES = {
  '#id': 'id',
  '#state': 'state',
  '#attempt': 'attempt',
  '#fingerprint': 'fingerprint',
  '#started_at': 'started_at',
  '#in_flight_until': 'in_flight_until',
  '#expires_at': 'expires_at',
  '#response': 'response',
  '#key': 'key',
} as const;

/** Only the names an expression uses (DynamoDB refuses unused ones). */
function names(...used: (keyof typeof NAMES)[]): Record<string, string> {
  return Object.fromEntries(used.map((name) => [name, NAMES[name]]));
}

const n = (value: number): AttributeValue => ({ N: String(value) });
const s = (value: string): AttributeValue => ({ S: value });

function toItem(record: KeyRecord): Item {
  return {
    id: s(record.id),
    state: s(record.state),
    attempt: s(record.attempt),
    fingerprint: s(record.fingerprint),
    started_at: n(record.startedAt),
    in_flight_until: n(record.inFlightUntil),
    expires_at: n(record.expiresAt),
    ...(record.response ? { response: s(JSON.stringify(record.response)) } : {}),
  };
}

function fromItem(item: Item): KeyRecord {
  const text = (name: string) => item[name]?.S ?? '';
  const number = (name: string) => Number(item[name]?.N ?? Number.NaN);
  const response = item.response?.S;
  return {
    id: text('id'),
    state: text('state') as KeyRecord['state'],
    attempt: text('attempt'),
    fingerprint: text('fingerprint'),
    startedAt: number('started_at'),
    inFlightUntil: number('in_flight_until'),
    expiresAt: number('expires_at'),
    ...(response ? { response: JSON.parse(response) as StoredResponse } : {}),
  };
}

async function conditional(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** The live record of a key, or undefined (none, or expired). Strongly consistent. */
export async function readRecord(id: string, now: number): Promise<KeyRecord | undefined> {
  const answer = await send<{ Item?: Item }>(
    new GetItemCommand({
      TableName: settings.idempotencyKeysTable(),
      Key: { id: s(id) },
      ConsistentRead: true,
    }),
  );
  const record = answer.Item ? fromItem(answer.Item) : undefined;
  return record && record.expiresAt * 1000 > now ? record : undefined;
}

/**
 * Claims a key for a first attempt: written only if no live record holds it. Else the record
 * that does, as DynamoDB returned it with the refusal.
 */
export async function claim(
  record: KeyRecord,
  now: number,
): Promise<{ claimed: true } | { claimed: false; holder: KeyRecord | undefined }> {
  try {
    await send(
      new PutItemCommand({
        TableName: settings.idempotencyKeysTable(),
        Item: toItem(record),
        ConditionExpression: 'attribute_not_exists(#id) OR #expires_at <= :now',
        ExpressionAttributeNames: names('#id', '#expires_at'),
        ExpressionAttributeValues: { ':now': n(Math.floor(now / 1000)) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { claimed: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const item = error.Item as Item | undefined;
    return { claimed: false, holder: item ? fromItem(item) : undefined };
  }
}

/** A retry takes over the key from an attempt that is over without an answer. */
export function takeOver(
  holder: KeyRecord,
  attempt: string,
  inFlightUntil: number,
): Promise<boolean> {
  return conditional(
    send(
      new UpdateItemCommand({
        TableName: settings.idempotencyKeysTable(),
        Key: { id: s(holder.id) },
        UpdateExpression: 'SET #state = :in_progress, #attempt = :mine, #in_flight_until = :until',
        ConditionExpression: '#attempt = :theirs AND #state <> :completed',
        ExpressionAttributeNames: names('#state', '#attempt', '#in_flight_until'),
        ExpressionAttributeValues: {
          ':in_progress': s('in_progress'),
          ':completed': s('completed'),
          ':mine': s(attempt),
          ':theirs': s(holder.attempt),
          ':until': n(inFlightUntil),
        },
      }),
    ),
  );
}

/** Sets `fields` of the key's record while `attempt` still holds it; false when it no longer does. */
function setWhileHolding(
  id: string,
  attempt: string,
  fields: Partial<Record<'#state' | '#response' | '#in_flight_until', AttributeValue>>,
): Promise<boolean> {
  const entries = Object.entries(fields) as [keyof typeof NAMES, AttributeValue][];
  return conditional(
    send(
      new UpdateItemCommand({
        TableName: settings.idempotencyKeysTable(),
        Key: { id: s(id) },
        UpdateExpression: `SET ${entries.map(([name], index) => `${name} = :v${index}`).join(', ')}`,
        ConditionExpression: '#attempt = :mine',
        ExpressionAttributeNames: names('#attempt', ...entries.map(([name]) => name)),
        ExpressionAttributeValues: {
          ':mine': s(attempt),
          ...Object.fromEntries(entries.map(([, value], index) => [`:v${index}`, value])),
        },
      }),
    ),
  );
}

/** The attempt's answer, kept for the key's retries. */
export function complete(id: string, attempt: string, response: StoredResponse): Promise<boolean> {
  return setWhileHolding(id, attempt, {
    '#state': s('completed'),
    '#response': s(JSON.stringify(response)),
  });
}

/** The attempt's request reached ngrok but its answer was lost: retries wait, then look. */
export function markUnknown(id: string, attempt: string, inFlightUntil: number): Promise<boolean> {
  return setWhileHolding(id, attempt, {
    '#state': s('unknown'),
    '#in_flight_until': n(inFlightUntil),
  });
}

/** The attempt certainly changed nothing: the key is free for a retry to start anew. */
export function release(id: string, attempt: string): Promise<boolean> {
  return conditional(
    send(
      new DeleteItemCommand({
        TableName: settings.idempotencyKeysTable(),
        Key: { id: s(id) },
        ConditionExpression: '#attempt = :mine',
        ExpressionAttributeNames: names('#attempt'),
        ExpressionAttributeValues: { ':mine': s(attempt) },
      }),
    ),
  );
}

/**
 * Marks what a key's request made (a stream) as that key's: one thing is the answer of one key.
 * True when it is now this key's (or already was); false when another live key holds it.
 */
export function claimResource(
  resourceId: string,
  recordId: string,
  expiresAt: number,
  now: number,
): Promise<boolean> {
  return conditional(
    send(
      new PutItemCommand({
        TableName: settings.idempotencyKeysTable(),
        Item: { id: s(resourceId), key: s(recordId), expires_at: n(expiresAt) },
        ConditionExpression: 'attribute_not_exists(#id) OR #key = :mine OR #expires_at <= :now',
        ExpressionAttributeNames: names('#id', '#key', '#expires_at'),
        ExpressionAttributeValues: { ':mine': s(recordId), ':now': n(Math.floor(now / 1000)) },
      }),
    ),
  );
}
