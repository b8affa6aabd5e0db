/**
 * The sampling overrides, in DynamoDB (OVERRIDES_TABLE): one item per stream (partition key
 * `stream_id`) and key (sort key `key`: `manual`, or a system's own). Every change is a
 * conditional write, so that a set and an end of the same stream at the same moment never lose
 * either: an end shortens only an override that still holds or is to come; a record is removed
 * only if it is still the one that was read (its `created_at`) and has ended. A record stays
 * until its stream was set right after its end; DynamoDB TTL (`remove_after`, a week after the
 * end) takes what is left. Every reader sees an override past `expires_at` as ended, whether or
 * not anything has removed it yet (lib/sampling/effective.ts).
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { problem } from '../http/problem.ts';
import type { Actor } from '../observability/audit.ts';
import type { Override } from '../sampling/effective.ts';
import { settings } from '../settings.ts';

/** An override as stored: who set it and why, besides what lib/sampling/effective.ts reads. */
export interface StoredOverride extends Override {
  reason: string;
  actor: Actor;
  /** Ended early (released): its end was audited then, not when its record is removed. */
  released?: boolean;
}

/** A request to the table may take this long before it fails instead of hanging. */
const REQUEST_TIMEOUT_MS = 2_000;
/** How long DynamoDB keeps a record after its end, when nothing removed it before. */
const KEEP_AFTER_END_SECONDS = 7 * 24 * 3600;

type Item = Record<string, AttributeValue>;

let client: DynamoDBClient | undefined;

/** One request; a failure but a refused condition is `overrides-unavailable` (503). */
async function send<T>(command: { input: unknown }): Promise<T> {
  client ??= new DynamoDBClient({});
  try {
    return (await client.send(command as never, {
      abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })) as T;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw error;
    throw problem(
      'overrides-unavailable',
      'The sampling overrides could not be read or written, so nothing was set (a stream an override holds could have been set wrong): try again.',
      {},
      { cause: error, note: (error as Error).name },
    );
  }
}

const n = (value: number): AttributeValue => ({ N: String(value) });
const s = (value: string): AttributeValue => ({ S: value });

function toItem(record: StoredOverride): Item {
  return {
    stream_id: s(record.stream_id),
    key: s(record.key),
    sampling_rate: n(record.sampling_rate),
    starts_at: n(record.starts_at),
    expires_at: n(record.expires_at),
    created_at: n(record.created_at),
    reason: s(record.reason),
    actor: s(JSON.stringify(record.actor)),
    ...(record.restore_rate !== undefined ? { restore_rate: n(record.restore_rate) } : {}),
    ...(record.released ? { released: { BOOL: true } } : {}),
    remove_after: n(Math.ceil(record.expires_at / 1000) + KEEP_AFTER_END_SECONDS),
  };
}

function fromItem(item: Item): StoredOverride {
  const number = (name: string) => Number(item[name]?.N ?? Number.NaN);
  let actor: Actor = { kind: 'http', name: 'unknown' };
  try {
    actor = JSON.parse(item.actor?.S ?? '') as Actor;
  } catch {
    // A record written by hand: the actor stays unknown.
  }
  return {
    stream_id: item.stream_id?.S ?? '',
    key: item.key?.S ?? '',
    sampling_rate: number('sampling_rate'),
    starts_at: number('starts_at'),
    expires_at: number('expires_at'),
    created_at: number('created_at'),
    reason: item.reason?.S ?? '',
    actor,
    ...(item.restore_rate?.N !== undefined ? { restore_rate: number('restore_rate') } : {}),
    ...(item.released?.BOOL ? { released: true } : {}),
  };
}

const keyOf = (streamId: string, key: string): Item => ({ stream_id: s(streamId), key: s(key) });

/** A conditional write: what it answered, or undefined when DynamoDB refused its condition. */
async function unlessRefused<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/**
 * Every item a Scan or Query gives, page after page: the overrides, and apart from them the
 * marks (items with `mark`: an alert's resolution, a webhook delivery seen), which no reader of
 * overrides ever sees.
 */
async function everyPage(
  command: (start: Item | undefined) => { input: unknown },
): Promise<{ overrides: StoredOverride[]; marks: string[] }> {
  const overrides: StoredOverride[] = [];
  const marks: string[] = [];
  let start: Item | undefined;
  do {
    const page: { Items?: Item[]; LastEvaluatedKey?: Item } = await send(command(start));
    for (const item of page.Items ?? []) {
      if (item.mark?.BOOL) marks.push(item.key?.S ?? '');
      else overrides.push(fromItem(item));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { overrides, marks };
}

/** Every record of the table (ended ones too), strongly consistent. */
export async function allOverrides(): Promise<StoredOverride[]> {
  return (
    await everyPage(
      (start) =>
        new ScanCommand({
          TableName: settings.overridesTable(),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
    )
  ).overrides;
}

/** Every record of one stream (ended ones too), strongly consistent. */
export async function overridesOf(streamId: string): Promise<StoredOverride[]> {
  return (await recordsOf(streamId)).overrides;
}

/** A stream's overrides, and its marks' keys. */
export function recordsOf(
  streamId: string,
): Promise<{ overrides: StoredOverride[]; marks: string[] }> {
  return everyPage(
    (start) =>
      new QueryCommand({
        TableName: settings.overridesTable(),
        KeyConditionExpression: '#stream = :stream',
        ExpressionAttributeNames: { '#stream': 'stream_id' },
        ExpressionAttributeValues: { ':stream': s(streamId) },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
  );
}

/**
 * Stores an override, in place of the stream's record of the same key if there is one: that
 * record is answered (the override replaced), or undefined.
 */
export async function putOverride(record: StoredOverride): Promise<StoredOverride | undefined> {
  const answer = await send<{ Attributes?: Item }>(
    new PutItemCommand({
      TableName: settings.overridesTable(),
      Item: toItem(record),
      ReturnValues: 'ALL_OLD',
    }),
  );
  return answer.Attributes ? fromItem(answer.Attributes) : undefined;
}

/**
 * Ends an override now: its `expires_at` becomes `now` and it is marked released, if it still
 * holds or is to come. The override as ended, or undefined when there is none that has not ended.
 */
export async function endOverride(
  streamId: string,
  key: string,
  now: number,
): Promise<StoredOverride | undefined> {
  const answer = await unlessRefused(
    send<{ Attributes?: Item }>(
      new UpdateItemCommand({
        TableName: settings.overridesTable(),
        Key: keyOf(streamId, key),
        UpdateExpression: 'SET #expires = :now, #remove = :remove, #released = :released',
        ConditionExpression: 'attribute_exists(#stream) AND #expires > :now',
        ExpressionAttributeNames: {
          '#stream': 'stream_id',
          '#expires': 'expires_at',
          '#remove': 'remove_after',
          '#released': 'released',
        },
        ExpressionAttributeValues: {
          ':released': { BOOL: true },
          ':now': n(now),
          ':remove': n(Math.ceil(now / 1000) + KEEP_AFTER_END_SECONDS),
        },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return answer?.Attributes ? fromItem(answer.Attributes) : undefined;
}

/**
 * Removes an override whose stream was set right after its end: only the record read (same
 * `created_at`) and only once ended by `now`. False when it was replaced, moved or removed
 * meanwhile — then it is not this caller's to remove.
 */
export async function removeEnded(record: Override, now: number): Promise<boolean> {
  const removed = await unlessRefused(
    send(
      new DeleteItemCommand({
        TableName: settings.overridesTable(),
        Key: keyOf(record.stream_id, record.key),
        ConditionExpression: '#created = :created AND #expires <= :now',
        ExpressionAttributeNames: { '#created': 'created_at', '#expires': 'expires_at' },
        ExpressionAttributeValues: { ':created': n(record.created_at), ':now': n(now) },
      }),
    ).then(() => true),
  );
  return removed ?? false;
}

/** How long a mark is kept: longer than Alertmanager repeats an alert, or PagerDuty retries. */
const MARK_SECONDS = 7 * 24 * 3600;

/**
 * Puts a mark (`key` under `partition`: a name of its own), marked at `now`: true when it is new,
 * false when it was there. Marks are never overrides; DynamoDB TTL removes them after a week.
 */
export async function putMark(partition: string, key: string, now: number): Promise<boolean> {
  const put = await unlessRefused(
    send(
      new PutItemCommand({
        TableName: settings.overridesTable(),
        Item: {
          stream_id: s(partition),
          key: s(key),
          mark: { BOOL: true },
          marked_at: n(now),
          remove_after: n(Math.ceil(now / 1000) + MARK_SECONDS),
        },
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': 'key' },
      }),
    ).then(() => true),
  );
  return put ?? false;
}

/**
 * Moves a live override's end to `expiresAt` if that is later: only the record read (same
 * `created_at`), only while it has not ended and was not released. The override as it is now,
 * or undefined when it no longer holds or is to come.
 */
export async function extendOverride(
  record: StoredOverride,
  expiresAt: number,
  now: number,
): Promise<StoredOverride | undefined> {
  const answer = await unlessRefused(
    send<{ Attributes?: Item }>(
      new UpdateItemCommand({
        TableName: settings.overridesTable(),
        Key: keyOf(record.stream_id, record.key),
        UpdateExpression: 'SET #expires = :expires, #remove = :remove',
        ConditionExpression:
          '#created = :created AND #expires > :now AND #expires < :expires AND attribute_not_exists(#released)',
        ExpressionAttributeNames: {
          '#expires': 'expires_at',
          '#remove': 'remove_after',
          '#created': 'created_at',
          '#released': 'released',
        },
        ExpressionAttributeValues: {
          ':expires': n(expiresAt),
          ':remove': n(Math.ceil(expiresAt / 1000) + KEEP_AFTER_END_SECONDS),
          ':created': n(record.created_at),
          ':now': n(now),
        },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return answer?.Attributes ? fromItem(answer.Attributes) : undefined;
}

/**
 * Marks `key` done at `at` (ms), keeping the latest of the times marked (deliveries may come out
 * of order); the time the mark holds now is what `markedAt` reads.
 */
export async function markLatest(partition: string, key: string, at: number): Promise<void> {
  await unlessRefused(
    send(
      new UpdateItemCommand({
        TableName: settings.overridesTable(),
        Key: keyOf(partition, key),
        UpdateExpression: 'SET #mark = :true, #at = :at, #remove = :remove',
        ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
        ExpressionAttributeNames: {
          '#mark': 'mark',
          '#at': 'marked_at',
          '#remove': 'remove_after',
        },
        ExpressionAttributeValues: {
          ':true': { BOOL: true },
          ':at': n(at),
          ':remove': n(Math.ceil(Date.now() / 1000) + MARK_SECONDS),
        },
      }),
    ),
  );
}

/** When `key` was last marked (ms), or undefined when it is not marked. */
export async function markedAt(partition: string, key: string): Promise<number | undefined> {
  const answer = await send<{ Item?: Item }>(
    new GetItemCommand({
      TableName: settings.overridesTable(),
      Key: keyOf(partition, key),
      ConsistentRead: true,
      ProjectionExpression: '#at',
      ExpressionAttributeNames: { '#at': 'marked_at' },
    }),
  );
  const value = answer.Item?.marked_at?.N;
  return value === undefined ? undefined : Number(value);
}
