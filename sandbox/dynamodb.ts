/**
 * Amazon DynamoDB's item operations, enough for the real `@aws-sdk/client-dynamodb` (pointed here
 * with `AWS_ENDPOINT_URL_DYNAMODB`) — and so Powertools Idempotency — to keep records in the
 * sandbox. Written from the DynamoDB API reference: AWS JSON 1.0, `POST /` with
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`; GetItem, PutItem, UpdateItem (SET and REMOVE),
 * DeleteItem, with condition expressions (comparisons, BETWEEN, IN, attribute_exists,
 * attribute_not_exists, begins_with, AND, OR, NOT, parentheses) and expression attribute names
 * and values; errors are a 400 with `__type` (`com.amazonaws.dynamodb.v20120810#<Error>`).
 * Tables are made with the control surface (or CreateTable) and hold items in memory.
 */
import type { AwsResponse } from './secrets-manager.ts';

export const AMZ_JSON_1_0 = 'application/x-amz-json-1.0';
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

/** A DynamoDB attribute value, as on the wire: `{"S": "x"}`, `{"N": "1"}`, `{"M": {...}}`… */
export type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

interface Table {
  /** The partition key's attribute name (and the sort key's, if any). */
  keys: string[];
  items: Map<string, Item>;
}

class DynamoError extends Error {
  readonly type: string;
  readonly extra: Record<string, unknown>;

  constructor(type: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.type = type;
    this.extra = extra;
  }
}

const validation = (message: string) => new DynamoError('ValidationException', message);

// ---- expressions -------------------------------------------------------------------------

type Token = { kind: 'name' | 'value' | 'word' | 'op' | 'punct'; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|(<>|<=|>=|=|<|>)|([(),.[\]])|([A-Za-z_][A-Za-z0-9_]*))/y;
  let index = 0;
  while (index < expression.length) {
    if (/^\s*$/.test(expression.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(expression);
    if (!match)
      throw validation(
        `Invalid expression: syntax error near "${expression.slice(index, index + 10)}"`,
      );
    index = pattern.lastIndex;
    if (match[1]) tokens.push({ kind: 'name', text: match[1] });
    else if (match[2]) tokens.push({ kind: 'value', text: match[2] });
    else if (match[3]) tokens.push({ kind: 'op', text: match[3] });
    else if (match[4]) tokens.push({ kind: 'punct', text: match[4] });
    else if (match[5]) tokens.push({ kind: 'word', text: match[5] });
  }
  return tokens;
}

interface Context {
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
  used: { names: Set<string>; values: Set<string> };
}

class Parser {
  private position = 0;
  private readonly tokens: Token[];
  private readonly context: Context;

  constructor(tokens: Token[], context: Context) {
    this.tokens = tokens;
    this.context = context;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private next(): Token {
    const token = this.tokens[this.position++];
    if (!token) throw validation('Invalid expression: unexpected end of expression');
    return token;
  }

  private expect(text: string): void {
    const token = this.next();
    if (token.text.toUpperCase() !== text) {
      throw validation(`Invalid expression: expected ${text}, found ${token.text}`);
    }
  }

  private isWord(text: string): boolean {
    const token = this.peek();
    return token?.kind === 'word' && token.text.toUpperCase() === text;
  }

  done(): boolean {
    return this.position >= this.tokens.length;
  }

  /** An attribute path: names (`#n` or plain) joined by `.`. */
  path(): string[] {
    const parts = [this.pathPart()];
    while (this.peek()?.text === '.') {
      this.next();
      parts.push(this.pathPart());
    }
    return parts;
  }

  private pathPart(): string {
    const token = this.next();
    if (token.kind === 'name') {
      const name = this.context.names[token.text];
      if (name === undefined) {
        throw validation(
          `An expression attribute name used in the document path is not defined; attribute name: ${token.text}`,
        );
      }
      this.context.used.names.add(token.text);
      return name;
    }
    if (token.kind === 'word') return token.text;
    throw validation(`Invalid expression: expected an attribute name, found ${token.text}`);
  }

  /** An operand: a value placeholder or an attribute path; resolved against an item later. */
  operand(): (item: Item) => AttributeValue | undefined {
    const token = this.peek();
    if (token?.kind === 'value') {
      this.next();
      const value = this.context.values[token.text];
      if (value === undefined) {
        throw validation(
          `An expression attribute value used in expression is not defined; attribute value: ${token.text}`,
        );
      }
      this.context.used.values.add(token.text);
      return () => value;
    }
    const path = this.path();
    return (item) => lookup(item, path);
  }

  condition(): (item: Item) => boolean {
    let left = this.conjunction();
    while (this.isWord('OR')) {
      this.next();
      const right = this.conjunction();
      const before = left;
      left = (item) => before(item) || right(item);
    }
    return left;
  }

  private conjunction(): (item: Item) => boolean {
    let left = this.negation();
    while (this.isWord('AND')) {
      this.next();
      const right = this.negation();
      const before = left;
      left = (item) => before(item) && right(item);
    }
    return left;
  }

  private negation(): (item: Item) => boolean {
    if (this.isWord('NOT')) {
      this.next();
      const inner = this.negation();
      return (item) => !inner(item);
    }
    return this.primary();
  }

  private primary(): (item: Item) => boolean {
    const token = this.peek();
    if (token?.text === '(') {
      this.next();
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    if (token?.kind === 'word' && this.tokens[this.position + 1]?.text === '(') {
      const name = token.text;
      this.next();
      this.next();
      if (name === 'attribute_exists' || name === 'attribute_not_exists') {
        const path = this.path();
        this.expect(')');
        return name === 'attribute_exists'
          ? (item) => lookup(item, path) !== undefined
          : (item) => lookup(item, path) === undefined;
      }
      if (name === 'begins_with') {
        const path = this.path();
        this.expect(',');
        const prefix = this.operand();
        this.expect(')');
        return (item) => {
          const value = lookup(item, path);
          const start = prefix(item);
          return (
            typeof value?.S === 'string' &&
            typeof start?.S === 'string' &&
            value.S.startsWith(start.S)
          );
        };
      }
      throw validation(`Invalid expression: the function is not supported here: ${name}`);
    }
    const left = this.operand();
    if (this.isWord('BETWEEN')) {
      this.next();
      const low = this.operand();
      this.expect('AND');
      const high = this.operand();
      return (item) => {
        const value = left(item);
        return compare(value, low(item)) >= 0 && compare(value, high(item)) <= 0;
      };
    }
    if (this.isWord('IN')) {
      this.next();
      this.expect('(');
      const options = [this.operand()];
      while (this.peek()?.text === ',') {
        this.next();
        options.push(this.operand());
      }
      this.expect(')');
      return (item) => options.some((option) => compare(left(item), option(item)) === 0);
    }
    const operator = this.next();
    if (operator.kind !== 'op')
      throw validation(`Invalid expression: expected a comparison, found ${operator.text}`);
    const right = this.operand();
    return (item) => {
      const order = compare(left(item), right(item));
      switch (operator.text) {
        case '=':
          return order === 0;
        case '<>':
          return order !== 0 && !Number.isNaN(order);
        case '<':
          return order < 0;
        case '<=':
          return order <= 0;
        case '>':
          return order > 0;
        default:
          return order >= 0;
      }
    };
  }

  /** `SET a = :v, #b = :w REMOVE c, d`: the changes, applied to a copy of the item. */
  update(): (item: Item) => Item {
    const steps: ((item: Item) => void)[] = [];
    while (!this.done()) {
      const clause = this.next();
      const keyword = clause.text.toUpperCase();
      if (keyword !== 'SET' && keyword !== 'REMOVE') {
        throw validation(`Invalid UpdateExpression: the clause is not supported: ${clause.text}`);
      }
      for (;;) {
        const path = this.path();
        if (keyword === 'SET') {
          this.expect('=');
          const value = this.operand();
          steps.push((item) => assign(item, path, value(item)));
        } else {
          steps.push((item) => assign(item, path, undefined));
        }
        if (this.peek()?.text !== ',') break;
        this.next();
      }
    }
    return (item) => {
      const copy = structuredClone(item);
      for (const step of steps) step(copy);
      return copy;
    };
  }
}

function lookup(item: Item, path: string[]): AttributeValue | undefined {
  let value: AttributeValue | undefined = item[path[0] as string];
  for (const part of path.slice(1)) {
    const map = value?.M as Item | undefined;
    value = map?.[part];
  }
  return value;
}

function assign(item: Item, path: string[], value: AttributeValue | undefined): void {
  let target: Item = item;
  for (const part of path.slice(0, -1)) {
    const next = target[part]?.M as Item | undefined;
    if (!next)
      throw validation('The document path provided in the update expression is invalid for update');
    target = next;
  }
  const last = path.at(-1) as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
}

/** NaN when the two cannot be compared (missing, or of different types): the comparison is false. */
function compare(a: AttributeValue | undefined, b: AttributeValue | undefined): number {
  if (a === undefined || b === undefined) return Number.NaN;
  if (typeof a.N === 'string' && typeof b.N === 'string')
    return Math.sign(Number(a.N) - Number(b.N));
  if (typeof a.S === 'string' && typeof b.S === 'string') return a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  return JSON.stringify(a) === JSON.stringify(b) ? 0 : Number.NaN;
}

function contextOf(request: Record<string, unknown>): Context {
  return {
    names: (request.ExpressionAttributeNames ?? {}) as Record<string, string>,
    values: (request.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>,
    used: { names: new Set(), values: new Set() },
  };
}

function parseWhole<T>(expression: string, context: Context, parse: (parser: Parser) => T): T {
  const parser = new Parser(tokenize(expression), context);
  const result = parse(parser);
  if (!parser.done())
    throw validation(`Invalid expression: unexpected tokens after the end: ${expression}`);
  return result;
}

/** DynamoDB refuses names and values that are defined but not used. */
function checkAllUsed(context: Context): void {
  for (const name of Object.keys(context.names)) {
    if (!context.used.names.has(name)) {
      throw validation(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${name}}`,
      );
    }
  }
  for (const value of Object.keys(context.values)) {
    if (!context.used.values.has(value)) {
      throw validation(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${value}}`,
      );
    }
  }
}

// ---- tables ------------------------------------------------------------------------------

export class DynamoStore {
  private readonly tables = new Map<string, Table>();

  createTable(name: string, keys: string[]): void {
    this.tables.set(name, { keys, items: new Map() });
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** Every item of a table, as stored (for tests). */
  items(name: string): Item[] {
    return [...(this.tables.get(name)?.items.values() ?? [])];
  }

  clear(): void {
    for (const table of this.tables.values()) table.items.clear();
  }

  private table(request: Record<string, unknown>): Table {
    const name = request.TableName;
    const table = typeof name === 'string' ? this.tables.get(name) : undefined;
    if (!table) throw new DynamoError('ResourceNotFoundException', 'Requested resource not found');
    return table;
  }

  private keyOf(table: Table, key: unknown): string {
    const given = (key ?? {}) as Item;
    if (
      Object.keys(given).length !== table.keys.length ||
      table.keys.some((name) => !given[name])
    ) {
      throw validation('The provided key element does not match the schema');
    }
    return JSON.stringify(table.keys.map((name) => given[name]));
  }

  private check(request: Record<string, unknown>, context: Context, existing: Item | undefined) {
    if (typeof request.ConditionExpression !== 'string') return;
    const condition = parseWhole(request.ConditionExpression, context, (parser) =>
      parser.condition(),
    );
    if (!condition(existing ?? {})) {
      const old = request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing;
      throw new DynamoError(
        'ConditionalCheckFailedException',
        'The conditional request failed',
        old ? { Item: existing } : {},
      );
    }
  }

  handle(target: string, body: string): AwsResponse {
    try {
      const operation = target.replace(/^DynamoDB_20120810\./, '');
      const request = JSON.parse(body || '{}') as Record<string, unknown>;
      return {
        status: 200,
        headers: { 'content-type': AMZ_JSON_1_0 },
        body: this.operate(operation, request),
      };
    } catch (error) {
      const failure =
        error instanceof DynamoError
          ? error
          : new DynamoError('SerializationException', 'The request could not be read');
      return {
        status: 400,
        headers: { 'content-type': AMZ_JSON_1_0, 'x-amzn-errortype': failure.type },
        body: {
          __type: `${ERROR_PREFIX}${failure.type}`,
          message: failure.message,
          ...failure.extra,
        },
      };
    }
  }

  private operate(operation: string, request: Record<string, unknown>): unknown {
    if (operation === 'CreateTable') {
      const schema = (request.KeySchema ?? []) as { AttributeName: string; KeyType: string }[];
      const name = String(request.TableName ?? '');
      if (this.tables.has(name))
        throw new DynamoError('ResourceInUseException', `Table already exists: ${name}`);
      this.createTable(
        name,
        schema.map((key) => key.AttributeName),
      );
      return { TableDescription: { TableName: name, TableStatus: 'ACTIVE', KeySchema: schema } };
    }
    const table = this.table(request);
    const context = contextOf(request);
    switch (operation) {
      case 'GetItem': {
        const item = table.items.get(this.keyOf(table, request.Key));
        return item ? { Item: item } : {};
      }
      case 'PutItem': {
        const item = (request.Item ?? {}) as Item;
        const key = this.keyOf(
          table,
          Object.fromEntries(table.keys.map((name) => [name, item[name]])),
        );
        this.check(request, context, table.items.get(key));
        checkAllUsed(context);
        table.items.set(key, structuredClone(item));
        return {};
      }
      case 'UpdateItem': {
        const key = this.keyOf(table, request.Key);
        const existing = table.items.get(key);
        this.check(request, context, existing);
        const update = parseWhole(String(request.UpdateExpression ?? ''), context, (parser) =>
          parser.update(),
        );
        checkAllUsed(context);
        table.items.set(key, update({ ...(existing ?? {}), ...((request.Key ?? {}) as Item) }));
        return {};
      }
      case 'DeleteItem': {
        const key = this.keyOf(table, request.Key);
        this.check(request, context, table.items.get(key));
        checkAllUsed(context);
        table.items.delete(key);
        return {};
      }
      default:
        throw new DynamoError(
          'UnknownOperationException',
          `The operation ${operation} is not supported by the sandbox`,
        );
    }
  }
}
