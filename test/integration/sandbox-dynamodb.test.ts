/**
 * The sandbox's DynamoDB stand-in, through the real `@aws-sdk/client-dynamodb`: the item
 * operations and condition expressions Powertools Idempotency relies on, and Query and Scan, as
 * the DynamoDB API reference describes them.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  type DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  QueryCommand,
  type QueryCommandInput,
  ResourceNotFoundException,
  type ReturnValue,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { control, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
/** DynamoDB table names are 3 to 255 characters. */
const TABLE = 'items';
let db: DynamoDBClient;

beforeAll(() => {
  db = new DynamoDBClient({
    endpoint: ctx.url,
    region: 'us-east-1',
    credentials: ctx.sandbox.awsCredentials,
  });
});
beforeEach(async () => {
  await control(ctx.url, 'PUT', `/dynamodb/tables/${TABLE}`, { keys: ['id'] });
});

const put = (
  item: Record<string, unknown>,
  condition?: string,
  names?: Record<string, string>,
  values?: Record<string, unknown>,
) =>
  db.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: item as never,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values as never,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );

describe('Sandbox DynamoDB', () => {
  it('puts, gets, updates with SET and REMOVE, and deletes an item', async () => {
    await put({ id: { S: 'a' }, n: { N: '1' }, s: { S: 'x' } });
    await db.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { id: { S: 'a' } },
        UpdateExpression: 'SET #n = :two, extra = :e REMOVE s',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':two': { N: '2' }, ':e': { BOOL: true } },
      }),
    );
    const got = await db.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'a' } } }));
    await db.send(new DeleteItemCommand({ TableName: TABLE, Key: { id: { S: 'a' } } }));
    const gone = await db.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'a' } } }));

    expect(got.Item).toEqual({ id: { S: 'a' }, n: { N: '2' }, extra: { BOOL: true } });
    expect(gone.Item).toBeUndefined();
  });

  it('evaluates Powertools’ condition: absent, expired, or in progress and expired', async () => {
    const condition =
      'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)';
    const names = {
      '#id': 'id',
      '#expiry': 'expiration',
      '#status': 'status',
      '#in_progress_expiry': 'in_progress_expiration',
    };
    const values = (now: number) => ({
      ':now': { N: String(now) },
      ':now_in_millis': { N: String(now * 1000) },
      ':inprogress': { S: 'INPROGRESS' },
    });

    await put(
      { id: { S: 'k' }, expiration: { N: '100' }, status: { S: 'COMPLETED' } },
      condition,
      names,
      values(50),
    );
    const refused = put(
      { id: { S: 'k' }, expiration: { N: '200' }, status: { S: 'INPROGRESS' } },
      condition,
      names,
      values(60),
    );

    await expect(refused).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(refused).rejects.toMatchObject({ Item: { status: { S: 'COMPLETED' } } });
    // Expired: taken again.
    await put(
      {
        id: { S: 'k' },
        expiration: { N: '300' },
        status: { S: 'INPROGRESS' },
        in_progress_expiration: { N: '150000' },
      },
      condition,
      names,
      values(150),
    );
    // In progress, and its in-progress time passed: taken again.
    await put(
      { id: { S: 'k' }, expiration: { N: '400' }, status: { S: 'COMPLETED' } },
      condition,
      names,
      values(200),
    );
    const item = await db.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'k' } } }));
    expect(item.Item?.status).toEqual({ S: 'COMPLETED' });
  });

  it('refuses unused expression names, undefined values, bad syntax and unknown tables as DynamoDB does', async () => {
    await expect(
      put({ id: { S: 'a' } }, 'attribute_not_exists(id)', { '#unused': 'x' }),
    ).rejects.toThrow('Value provided in ExpressionAttributeNames unused in expressions');
    await expect(put({ id: { S: 'a' } }, 'n = :missing')).rejects.toThrow(
      'An expression attribute value used in expression is not defined',
    );
    await expect(put({ id: { S: 'a' } }, 'n = = 1')).rejects.toThrow(
      'Invalid ConditionExpression: Syntax error',
    );
    await expect(
      db.send(
        new GetItemCommand({
          TableName: TABLE,
          Key: { id: { S: 'a' } },
          ExpressionAttributeNames: { '#n': 'n' },
        }),
      ),
    ).rejects.toThrow('ExpressionAttributeNames can only be specified when using expressions');
    await expect(
      put({ id: { S: 'a' } }, 'attribute_not_exists(id)', undefined, {}),
    ).rejects.toThrow('ExpressionAttributeValues must not be empty');
    await expect(
      db.send(new GetItemCommand({ TableName: 'nope', Key: { id: { S: 'a' } } })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      db.send(new GetItemCommand({ TableName: TABLE, Key: { other: { S: 'a' } } })),
    ).rejects.toThrow('The provided key element does not match the schema');
  });
});

const update = (
  key: string,
  expression: string,
  names?: Record<string, string>,
  values?: Record<string, unknown>,
) =>
  db.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: { id: { S: key } },
      UpdateExpression: expression,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values as never,
    }),
  );

const stored = (key: string) =>
  db
    .send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: key } } }))
    .then((got) => got.Item);

/** The error a call failed with (it must fail). */
async function failure(call: Promise<unknown>): Promise<DynamoDBServiceException> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('The call succeeded');
  return outcome as DynamoDBServiceException;
}

describe('Sandbox DynamoDB: ReturnValues', () => {
  it('answers UpdateItem with all or only the updated attributes, before or after', async () => {
    await put({ id: { S: 'a' }, n: { N: '1' }, m: { M: { x: { S: 'x' }, y: { S: 'y' } } } });
    const updateWith = (returnValues: ReturnValue, value: string) =>
      db.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: { S: 'a' } },
          UpdateExpression: 'SET m.x = :v REMOVE n',
          ExpressionAttributeValues: { ':v': { S: value } },
          ReturnValues: returnValues,
        }),
      );

    const updatedOld = await updateWith('UPDATED_OLD', 'x2');
    const updatedNew = await updateWith('UPDATED_NEW', 'x3');
    const allNew = await updateWith('ALL_NEW', 'x4');
    const none = await updateWith('NONE', 'x5');

    expect(updatedOld.Attributes).toEqual({ n: { N: '1' }, m: { M: { x: { S: 'x' } } } });
    expect(updatedNew.Attributes).toEqual({ m: { M: { x: { S: 'x3' } } } });
    expect(allNew.Attributes).toEqual({
      id: { S: 'a' },
      m: { M: { x: { S: 'x4' }, y: { S: 'y' } } },
    });
    expect(none.Attributes).toBeUndefined();
  });

  it('answers PutItem and DeleteItem with the item before (ALL_OLD), and refuses ALL_NEW', async () => {
    await put({ id: { S: 'a' }, n: { N: '1' } });

    const replaced = await db.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { id: { S: 'a' }, n: { N: '2' } },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const deleted = await db.send(
      new DeleteItemCommand({ TableName: TABLE, Key: { id: { S: 'a' } }, ReturnValues: 'ALL_OLD' }),
    );
    const allNew = await failure(
      db.send(
        new PutItemCommand({ TableName: TABLE, Item: { id: { S: 'a' } }, ReturnValues: 'ALL_NEW' }),
      ),
    );

    expect(replaced.Attributes).toEqual({ id: { S: 'a' }, n: { N: '1' } });
    expect(deleted.Attributes).toEqual({ id: { S: 'a' }, n: { N: '2' } });
    expect(allNew.message).toBe('ReturnValues can only be ALL_OLD or NONE');
  });
});

describe('Sandbox DynamoDB: table names, as DynamoDB constrains them', () => {
  it('refuses a table name shorter than 3 characters, or with other characters', async () => {
    const short = await failure(
      db.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'a' } } })),
    );
    const spaced = await failure(
      db.send(new GetItemCommand({ TableName: 'my table', Key: { id: { S: 'a' } } })),
    );
    const created = await fetch(`${ctx.url}/_sandbox/dynamodb/tables/t`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: ['id'] }),
    });

    expect(short.name).toBe('ValidationException');
    expect(short.message).toBe(
      "1 validation error detected: Value 't' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
    );
    expect(spaced.message).toBe(
      "1 validation error detected: Value 'my table' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    );
    expect(created.status).toBe(400);
  });
});

describe('Sandbox DynamoDB: reserved words, as DynamoDB refuses them', () => {
  it.each(['status', 'name', 'ttl', 'Year', 'ABORT', 'zone'])(
    'refuses SET %s = :v without an expression attribute name, and changes nothing',
    async (word) => {
      await put({ id: { S: 'a' } });

      const error = await failure(update('a', `SET ${word} = :v`, undefined, { ':v': { S: 'x' } }));

      expect(error.name).toBe('ValidationException');
      expect(error.message).toBe(
        `Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: ${word}`,
      );
      expect(await stored('a')).toEqual({ id: { S: 'a' } });
    },
  );

  it('refuses a reserved word in a condition, in a nested path, and in a projection', async () => {
    await put({ id: { S: 'a' }, info: { M: { n: { N: '1' } } } });

    const condition = await failure(put({ id: { S: 'b' } }, 'attribute_not_exists(name)'));
    const nested = await failure(
      update('a', 'SET info.year = :v', undefined, { ':v': { N: '2' } }),
    );
    const projection = await failure(
      db.send(
        new GetItemCommand({
          TableName: TABLE,
          Key: { id: { S: 'a' } },
          ProjectionExpression: 'id, Comment',
        }),
      ),
    );

    expect(condition.message).toBe(
      'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name',
    );
    expect(nested.message).toBe(
      'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: year',
    );
    expect(projection.message).toBe(
      'Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Comment',
    );
    expect(await stored('b')).toBeUndefined();
  });

  it('accepts the same words through expression attribute names, and names that only contain one', async () => {
    await put({ id: { S: 'a' } });

    await update(
      'a',
      'SET #status = :s, #ttl = :t, statusCode = :c',
      {
        '#status': 'status',
        '#ttl': 'ttl',
      },
      { ':s': { S: 'ok' }, ':t': { N: '60' }, ':c': { N: '200' } },
    );
    const projected = await db.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { id: { S: 'a' } },
        ProjectionExpression: '#status, statusCode',
        ExpressionAttributeNames: { '#status': 'status' },
      }),
    );

    expect(await stored('a')).toEqual({
      id: { S: 'a' },
      status: { S: 'ok' },
      ttl: { N: '60' },
      statusCode: { N: '200' },
    });
    expect(projected.Item).toEqual({ status: { S: 'ok' }, statusCode: { N: '200' } });
  });
});

describe('Sandbox DynamoDB: comparisons, as DynamoDB evaluates them', () => {
  it('<> is true when the attribute is missing, or of another type', async () => {
    // A missing item: every attribute is missing.
    await put(
      { id: { S: 'a' }, state: { N: '1' } },
      '#s <> :done',
      { '#s': 'state' },
      {
        ':done': { S: 'DONE' },
      },
    );
    // An N is never equal to an S, even with the same digits.
    await put(
      { id: { S: 'a' }, state: { N: '2' } },
      '#s <> :one',
      { '#s': 'state' },
      {
        ':one': { S: '1' },
      },
    );
    const equal = await failure(
      put({ id: { S: 'a' } }, '#s <> :two', { '#s': 'state' }, { ':two': { N: '2' } }),
    );

    expect(equal).toBeInstanceOf(ConditionalCheckFailedException);
    expect(await stored('a')).toEqual({ id: { S: 'a' }, state: { N: '2' } });
  });

  it('= is false when either side is missing; sets are equal whatever their order', async () => {
    await put({ id: { S: 'a' }, tags: { SS: ['x', 'y'] } });

    const missing = await failure(put({ id: { S: 'a' } }, 'absent1 = absent2'));
    await put({ id: { S: 'a' }, tags: { SS: ['z'] } }, 'tags = :tags', undefined, {
      ':tags': { SS: ['y', 'x'] },
    });

    expect(missing).toBeInstanceOf(ConditionalCheckFailedException);
    expect(await stored('a')).toEqual({ id: { S: 'a' }, tags: { SS: ['z'] } });
  });
});

describe('Sandbox DynamoDB: the 400 KB item size, counted as DynamoDB counts it', () => {
  const LIMIT = 400 * 1024;
  // `id` + `a` + `v` take 4 bytes: names count, as do values.
  const withValue = (length: number) => ({ id: { S: 'a' }, v: { S: 'x'.repeat(length) } });

  it('stores an item of exactly 400 KB and refuses one byte more', async () => {
    await put(withValue(LIMIT - 4));
    const tooLarge = await failure(put({ ...withValue(LIMIT - 3), id: { S: 'b' } }));

    expect(tooLarge.name).toBe('ValidationException');
    expect(tooLarge.message).toBe('Item size has exceeded the maximum allowed size');
    expect(await stored('b')).toBeUndefined();
    expect((await stored('a'))?.v?.S).toHaveLength(LIMIT - 4);
  });

  it('counts a map as 3 bytes plus, per entry, 1 byte, its name and its value', async () => {
    // 'id' 'a' 'm' = 4; the map 3; its entry 1 + 'k' 1: 9 bytes besides the string.
    const item = (length: number) => ({
      id: { S: 'a' },
      m: { M: { k: { S: 'x'.repeat(length) } } },
    });

    await put(item(LIMIT - 9));
    const tooLarge = await failure(put(item(LIMIT - 8)));

    expect(tooLarge.message).toBe('Item size has exceeded the maximum allowed size');
  });

  it('refuses a 450 KB item, and a 1.5 MB one, with the same ValidationException', async () => {
    const kb450 = await failure(put({ id: { S: 'a' }, v: { S: 'x'.repeat(450 * 1024) } }));
    const mb15 = await failure(put({ id: { S: 'a' }, v: { S: 'x'.repeat(1536 * 1024) } }));

    expect(kb450.message).toBe('Item size has exceeded the maximum allowed size');
    expect(mb15.$metadata.httpStatusCode).toBe(400);
    expect(mb15.message).toBe('Item size has exceeded the maximum allowed size');
  });

  it('refuses an update whose result would pass 400 KB, and keeps the item as it was', async () => {
    await put({ id: { S: 'a' }, first: { S: 'x'.repeat(300 * 1024) } });

    const error = await failure(
      update(
        'a',
        'SET #second = :v',
        { '#second': 'second' },
        { ':v': { S: 'y'.repeat(150 * 1024) } },
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe('Item size to update has exceeded the maximum allowed size');
    expect(Object.keys((await stored('a')) ?? {}).sort()).toEqual(['first', 'id']);
  });

  it('answers a request over 16 MB with a bare 413, as DynamoDB does, before anything else', async () => {
    const item = { id: { S: 'a' }, v: { S: 'x'.repeat(16 * 1024 * 1024) } };

    const error = await failure(put(item));
    // Unsigned: the size is refused before the signature is looked at.
    const raw = await fetch(ctx.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.PutItem',
      },
      body: JSON.stringify({ TableName: TABLE, Item: item }),
    });

    expect(error.$metadata.httpStatusCode).toBe(413);
    expect(raw.status).toBe(413);
    expect(await raw.text()).toBe('');
    expect(await stored('a')).toBeUndefined();
  });
});

describe('Sandbox DynamoDB: Query and Scan, as DynamoDB answers them', () => {
  /** A table with a sort key, as the overrides table has. */
  const SORTED = 'sorted';
  const item = (pk: string, sk: string, extra: Record<string, unknown> = {}) => ({
    pk: { S: pk },
    sk: { S: sk },
    ...extra,
  });
  const keysOf = (items: Record<string, { S?: string }>[] | undefined) =>
    (items ?? []).map((each) => `${each.pk?.S}/${each.sk?.S}`);
  const putSorted = (each: Record<string, unknown>) =>
    db.send(new PutItemCommand({ TableName: SORTED, Item: each as never }));
  const query = (input: Omit<QueryCommandInput, 'TableName'>) =>
    db.send(new QueryCommand({ TableName: SORTED, ...input }));

  beforeEach(async () => {
    await control(ctx.url, 'PUT', `/dynamodb/tables/${SORTED}`, { keys: ['pk', 'sk'] });
    // Put out of order: the answers come in key order all the same.
    for (const sk of ['2026-03-01', '2026-01-01', '2026-02-01', 'b#1', 'a#2', 'a#1']) {
      await putSorted(item('stream-1', sk, { rate: { N: sk.startsWith('a') ? '0.5' : '1' } }));
    }
    await putSorted(item('stream-2', '2026-01-15'));
  });

  it('queries one partition in sort key order, forwards or backwards', async () => {
    const forwards = await query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'stream-1' } },
    });
    const backwards = await query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'stream-1' } },
      ScanIndexForward: false,
      ConsistentRead: true,
    });

    expect(keysOf(forwards.Items)).toEqual([
      'stream-1/2026-01-01',
      'stream-1/2026-02-01',
      'stream-1/2026-03-01',
      'stream-1/a#1',
      'stream-1/a#2',
      'stream-1/b#1',
    ]);
    expect(forwards).toMatchObject({ Count: 6, ScannedCount: 6 });
    expect(forwards.LastEvaluatedKey).toBeUndefined();
    expect(keysOf(backwards.Items)).toEqual([...keysOf(forwards.Items)].reverse());
  });

  it.each([
    ['#sk = :a', { ':a': '2026-02-01' }, ['2026-02-01']],
    ['#sk < :a', { ':a': '2026-02-01' }, ['2026-01-01']],
    ['#sk <= :a', { ':a': '2026-02-01' }, ['2026-01-01', '2026-02-01']],
    ['#sk > :a', { ':a': '2026-03-01' }, ['a#1', 'a#2', 'b#1']],
    ['#sk >= :a', { ':a': 'a#2' }, ['a#2', 'b#1']],
    [
      '#sk BETWEEN :a AND :b',
      { ':a': '2026-01-15', ':b': '2026-03-01' },
      ['2026-02-01', '2026-03-01'],
    ],
    ['begins_with(#sk, :a)', { ':a': 'a#' }, ['a#1', 'a#2']],
    [':a > #sk', { ':a': '2026-02-01' }, ['2026-01-01']],
  ])('narrows by the sort key: %s', async (condition, values, expected) => {
    const answer = await query({
      // The sort key's condition first, in parentheses: DynamoDB takes either order.
      KeyConditionExpression: `(${condition}) AND pk = :pk`,
      ExpressionAttributeNames: { '#sk': 'sk' },
      ExpressionAttributeValues: {
        ':pk': { S: 'stream-1' },
        ...Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { S: value }])),
      },
    });

    expect((answer.Items ?? []).map((each) => each.sk?.S)).toEqual(expected);
  });

  it('filters after reading (Count vs ScannedCount), projects, and counts only with Select COUNT', async () => {
    const filtered = await query({
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'rate < :one',
      ProjectionExpression: 'sk, rate',
      ExpressionAttributeValues: { ':pk': { S: 'stream-1' }, ':one': { N: '1' } },
    });
    const counted = await query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'stream-1' } },
      Select: 'COUNT',
    });

    expect(filtered.Items).toEqual([
      { sk: { S: 'a#1' }, rate: { N: '0.5' } },
      { sk: { S: 'a#2' }, rate: { N: '0.5' } },
    ]);
    expect(filtered).toMatchObject({ Count: 2, ScannedCount: 6 });
    expect(counted.Items).toBeUndefined();
    expect(counted).toMatchObject({ Count: 6, ScannedCount: 6 });
  });

  it('pages with Limit: LastEvaluatedKey after Limit items read (filtered or not), even on the last page', async () => {
    const pages: { keys: string[]; scanned?: number; last?: unknown }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await query({
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'rate = :one',
        ExpressionAttributeValues: { ':pk': { S: 'stream-1' }, ':one': { N: '1' } },
        Limit: 2,
        ExclusiveStartKey: start as never,
      });
      pages.push({
        keys: keysOf(page.Items),
        scanned: page.ScannedCount,
        last: page.LastEvaluatedKey,
      });
      start = page.LastEvaluatedKey;
    } while (start !== undefined && pages.length < 10);

    expect(pages).toEqual([
      {
        keys: ['stream-1/2026-01-01', 'stream-1/2026-02-01'],
        scanned: 2,
        last: item('stream-1', '2026-02-01'),
      },
      // Both read items filtered out: an empty page that still goes on.
      { keys: ['stream-1/2026-03-01'], scanned: 2, last: item('stream-1', 'a#1') },
      { keys: ['stream-1/b#1'], scanned: 2, last: item('stream-1', 'b#1') },
      { keys: [], scanned: 0, last: undefined },
    ]);
  });

  it('pages through the SDK’s paginator, backwards', async () => {
    const keys: string[] = [];
    for await (const page of paginateQuery(
      { client: db, pageSize: 4 },
      {
        TableName: SORTED,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'stream-1' } },
        ScanIndexForward: false,
      },
    )) {
      keys.push(...keysOf(page.Items));
    }

    expect(keys).toHaveLength(6);
    expect(keys[0]).toBe('stream-1/b#1');
    expect(keys.at(-1)).toBe('stream-1/2026-01-01');
  });

  it('stops a page at 1 MB read: the item that crosses it is the last one', async () => {
    const big = (sk: string) => item('big', sk, { v: { S: 'x'.repeat(300 * 1024) } });
    for (const sk of ['1', '2', '3', '4', '5']) await putSorted(big(sk));
    const ask = (start?: Record<string, unknown>) =>
      query({
        KeyConditionExpression: 'pk = :pk',
        ProjectionExpression: 'sk',
        ExpressionAttributeValues: { ':pk': { S: 'big' } },
        ExclusiveStartKey: start as never,
      });

    const first = await ask();
    const second = await ask(first.LastEvaluatedKey);

    // 3 × 300 KB is under 1 MB, the 4th passes it.
    expect(first.Items).toEqual([1, 2, 3, 4].map((n) => ({ sk: { S: String(n) } })));
    expect(first.LastEvaluatedKey).toEqual(item('big', '4'));
    expect(second.Items).toEqual([{ sk: { S: '5' } }]);
    expect(second.LastEvaluatedKey).toBeUndefined();
  });

  it.each([
    [
      'no key condition',
      {},
      'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
    ],
    [
      'a condition on another attribute',
      { KeyConditionExpression: 'pk = :pk AND rate = :x' },
      'Query condition missed key schema element: sk',
    ],
    [
      'no partition key',
      { KeyConditionExpression: 'sk = :x' },
      'Query condition missed key schema element: pk',
    ],
    [
      'a range on the partition key',
      { KeyConditionExpression: 'pk > :pk' },
      'Query key condition not supported',
    ],
    [
      'OR',
      { KeyConditionExpression: 'pk = :pk OR sk = :x' },
      'Invalid operator used in KeyConditionExpression: OR',
    ],
    [
      '<>',
      { KeyConditionExpression: 'pk <> :pk' },
      'Invalid operator used in KeyConditionExpression: <>',
    ],
    [
      'attribute_exists',
      { KeyConditionExpression: 'pk = :pk AND attribute_exists(sk)' },
      'Invalid operator used in KeyConditionExpression: attribute_exists',
    ],
    [
      'two conditions on one key',
      { KeyConditionExpression: 'pk = :pk AND pk = :x' },
      'KeyConditionExpressions must only contain one condition per key',
    ],
    [
      'a nested attribute',
      { KeyConditionExpression: 'pk = :pk AND sk.part = :x' },
      'KeyConditionExpressions cannot have conditions on nested attributes',
    ],
    [
      'two attributes in one condition',
      { KeyConditionExpression: 'pk = sk' },
      'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
    ],
    [
      'a reserved word',
      { KeyConditionExpression: 'pk = :pk AND name = :x' },
      'Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: name',
    ],
    [
      'a filter on a key attribute',
      { KeyConditionExpression: 'pk = :pk', FilterExpression: 'sk = :x' },
      'Filter Expression can only contain non-primary key attributes: Primary key attribute: sk',
    ],
    [
      'an index',
      { KeyConditionExpression: 'pk = :pk', IndexName: 'by-rate' },
      'The table does not have the specified index: by-rate',
    ],
    [
      'Limit 0',
      { KeyConditionExpression: 'pk = :pk', Limit: 0 },
      "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ],
    [
      'a start key outside the partition',
      { KeyConditionExpression: 'pk = :pk', ExclusiveStartKey: item('stream-2', 'x') },
      'The provided starting key is outside query boundaries based on provided conditions',
    ],
    [
      'a start key outside the sort key condition',
      { KeyConditionExpression: 'pk = :pk AND sk < :x', ExclusiveStartKey: item('stream-1', 'z') },
      'The provided starting key does not match the range key predicate',
    ],
    [
      'a start key that is not the table’s key',
      { KeyConditionExpression: 'pk = :pk', ExclusiveStartKey: { pk: { S: 'stream-1' } } },
      'The provided starting key is invalid: The provided key element does not match the schema',
    ],
  ])('refuses %s as DynamoDB does', async (_, input, message) => {
    const used = JSON.stringify(input);
    const values = Object.fromEntries(
      [
        [':pk', { S: 'stream-1' }],
        [':x', { S: 'a' }],
      ].filter(([name]) => used.includes(name as string)),
    );

    const error = await failure(
      query({
        ...(input as Omit<QueryCommandInput, 'TableName'>),
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      }),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(message);
  });

  it('scans the whole table in key order, filtered, in pages', async () => {
    const all = await db.send(new ScanCommand({ TableName: SORTED }));
    const firstPage = await db.send(
      new ScanCommand({
        TableName: SORTED,
        Limit: 3,
        FilterExpression: 'begins_with(sk, :year)',
        ExpressionAttributeValues: { ':year': { S: '2026' } },
      }),
    );
    const rest = await db.send(
      new ScanCommand({
        TableName: SORTED,
        ExclusiveStartKey: firstPage.LastEvaluatedKey,
        FilterExpression: 'begins_with(sk, :year)',
        ExpressionAttributeValues: { ':year': { S: '2026' } },
      }),
    );
    const missing = await failure(db.send(new ScanCommand({ TableName: 'no-such-table' })));

    expect(keysOf(all.Items)).toEqual([
      'stream-1/2026-01-01',
      'stream-1/2026-02-01',
      'stream-1/2026-03-01',
      'stream-1/a#1',
      'stream-1/a#2',
      'stream-1/b#1',
      'stream-2/2026-01-15',
    ]);
    expect(all).toMatchObject({ Count: 7, ScannedCount: 7 });
    expect(firstPage).toMatchObject({ Count: 3, ScannedCount: 3 });
    expect(firstPage.LastEvaluatedKey).toEqual(item('stream-1', '2026-03-01'));
    expect(keysOf(rest.Items)).toEqual(['stream-2/2026-01-15']);
    expect(rest).toMatchObject({ Count: 1, ScannedCount: 4 });
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('scans a table with a partition key only, and filters with contains()', async () => {
    await put({ id: { S: 'a' }, tags: { SS: ['alert', 'slack'] } });
    await put({ id: { S: 'b' }, tags: { SS: ['schedule'] } });

    const answer = await db.send(
      new ScanCommand({
        TableName: TABLE,
        FilterExpression: 'contains(tags, :t)',
        ExpressionAttributeValues: { ':t': { S: 'alert' } },
      }),
    );

    expect(answer.Items).toEqual([{ id: { S: 'a' }, tags: { SS: ['alert', 'slack'] } }]);
    expect(answer).toMatchObject({ Count: 1, ScannedCount: 2 });
  });
});
