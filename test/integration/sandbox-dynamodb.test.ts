/**
 * The sandbox's DynamoDB stand-in, through the real `@aws-sdk/client-dynamodb`: the item
 * operations and condition expressions Powertools Idempotency relies on, as the DynamoDB API
 * reference describes them.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { control, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
let db: DynamoDBClient;

beforeAll(() => {
  db = new DynamoDBClient({
    endpoint: ctx.url,
    region: 'us-east-1',
    credentials: ctx.sandbox.awsCredentials,
  });
});
beforeEach(async () => {
  await control(ctx.url, 'PUT', '/dynamodb/tables/t', { keys: ['id'] });
});

const put = (
  item: Record<string, unknown>,
  condition?: string,
  names?: Record<string, string>,
  values?: Record<string, unknown>,
) =>
  db.send(
    new PutItemCommand({
      TableName: 't',
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
        TableName: 't',
        Key: { id: { S: 'a' } },
        UpdateExpression: 'SET #n = :two, extra = :e REMOVE s',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':two': { N: '2' }, ':e': { BOOL: true } },
      }),
    );
    const got = await db.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'a' } } }));
    await db.send(new DeleteItemCommand({ TableName: 't', Key: { id: { S: 'a' } } }));
    const gone = await db.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'a' } } }));

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
    const item = await db.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'k' } } }));
    expect(item.Item?.status).toEqual({ S: 'COMPLETED' });
  });

  it('refuses unused expression names, undefined values, bad syntax and unknown tables as DynamoDB does', async () => {
    await expect(
      put({ id: { S: 'a' } }, 'attribute_not_exists(id)', { '#unused': 'x' }),
    ).rejects.toThrow('Value provided in ExpressionAttributeNames unused in expressions');
    await expect(put({ id: { S: 'a' } }, 'n = :missing')).rejects.toThrow(
      'An expression attribute value used in expression is not defined',
    );
    await expect(put({ id: { S: 'a' } }, 'n = = 1')).rejects.toThrow('Invalid expression');
    await expect(
      db.send(new GetItemCommand({ TableName: 'nope', Key: { id: { S: 'a' } } })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      db.send(new GetItemCommand({ TableName: 't', Key: { other: { S: 'a' } } })),
    ).rejects.toThrow('The provided key element does not match the schema');
  });
});
