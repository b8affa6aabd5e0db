/**
 * Amazon DynamoDB's item operations, enough for the real `@aws-sdk/client-dynamodb` (pointed here
 * with `AWS_ENDPOINT_URL_DYNAMODB`) — and so Powertools Idempotency — to keep records in the
 * sandbox. Written from the DynamoDB API reference: AWS JSON 1.0, `POST /` with
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`; GetItem, PutItem, UpdateItem (SET and REMOVE),
 * DeleteItem, Query and Scan, with condition expressions (comparisons, BETWEEN, IN,
 * attribute_exists, attribute_not_exists, begins_with, contains, AND, OR, NOT, parentheses), key
 * condition, filter and projection expressions, and expression attribute names and values;
 * Query's and Scan's pages (Limit, 1 MB, ExclusiveStartKey / LastEvaluatedKey); errors are a 400 with `__type`
 * (`com.amazonaws.dynamodb.v20120810#<Error>`). As DynamoDB does, it refuses reserved words used
 * as attribute names in an expression, and items over 400 KB. Tables are made with the control
 * surface (or CreateTable) and hold items in memory.
 */
import { DYNAMODB_RESERVED_WORDS } from './dynamodb-reserved-words.ts';
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

/** DynamoDB's largest item: attribute names and values, counted as `itemSize` does. */
const MAX_ITEM_BYTES = 400 * 1024;

// ---- expressions -------------------------------------------------------------------------

/** Which request parameter an expression came in: DynamoDB's messages name it. */
type ExpressionName =
  | 'ConditionExpression'
  | 'UpdateExpression'
  | 'ProjectionExpression'
  | 'KeyConditionExpression'
  | 'FilterExpression';

/** One condition of a Query's KeyConditionExpression, on one key attribute. */
interface KeyCondition {
  attribute: string;
  operator: '=' | '<' | '<=' | '>' | '>=' | 'BETWEEN' | 'begins_with';
  values: AttributeValue[];
}

/** An operand of a key condition: an attribute path or a value. */
type KeyOperand = { path: string[] } | { value: AttributeValue };

type Token = {
  kind: 'name' | 'value' | 'word' | 'op' | 'punct';
  text: string;
  /** Where it starts in the expression. */
  at: number;
};

/**
 * DynamoDB's syntax error: `Invalid UpdateExpression: Syntax error; token: "#", near: ", #,"`,
 * the offending token and the text around it.
 */
function syntaxError(
  expressionName: ExpressionName,
  expression: string,
  token: string,
  at: number,
): DynamoError {
  const near = expression.slice(Math.max(0, at - 4), at + token.length + 4).trim();
  return validation(`Invalid ${expressionName}: Syntax error; token: "${token}", near: "${near}"`);
}

function tokenize(expression: string, expressionName: ExpressionName): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|(<>|<=|>=|=|<|>)|([(),.[\]])|([A-Za-z_][A-Za-z0-9_]*))/y;
  let index = 0;
  while (index < expression.length) {
    if (/^\s*$/.test(expression.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(expression);
    if (!match) {
      const at = index + (/^\s*/.exec(expression.slice(index))?.[0].length ?? 0);
      throw syntaxError(expressionName, expression, expression.charAt(at), at);
    }
    const at = index + (match[0].length - match[0].trimStart().length);
    index = pattern.lastIndex;
    if (match[1]) tokens.push({ kind: 'name', text: match[1], at });
    else if (match[2]) tokens.push({ kind: 'value', text: match[2], at });
    else if (match[3]) tokens.push({ kind: 'op', text: match[3], at });
    else if (match[4]) tokens.push({ kind: 'punct', text: match[4], at });
    else if (match[5]) tokens.push({ kind: 'word', text: match[5], at });
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
  private readonly expression: string;
  private readonly expressionName: ExpressionName;
  /** The first name of every attribute path read: Query refuses a filter on a key attribute. */
  readonly heads = new Set<string>();

  constructor(expression: string, expressionName: ExpressionName, context: Context) {
    this.expression = expression;
    this.expressionName = expressionName;
    this.tokens = tokenize(expression, expressionName);
    this.context = context;
  }

  private invalid(message: string): DynamoError {
    return validation(`Invalid ${this.expressionName}: ${message}`);
  }

  private syntaxError(token: Token | undefined): DynamoError {
    return token
      ? syntaxError(this.expressionName, this.expression, token.text, token.at)
      : syntaxError(this.expressionName, this.expression, '<EOF>', this.expression.length);
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private next(): Token {
    const token = this.tokens[this.position++];
    if (!token) throw this.syntaxError(undefined);
    return token;
  }

  private expect(text: string): void {
    const token = this.next();
    if (token.text.toUpperCase() !== text) throw this.syntaxError(token);
  }

  /** After a whole expression, nothing may be left. */
  end(): void {
    const token = this.peek();
    if (token) throw this.syntaxError(token);
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
    this.heads.add(parts[0] as string);
    return parts;
  }

  private pathPart(): string {
    const token = this.next();
    if (token.kind === 'name') {
      const name = this.context.names[token.text];
      if (name === undefined) {
        throw this.invalid(
          `An expression attribute name used in the document path is not defined; attribute name: ${token.text}`,
        );
      }
      this.context.used.names.add(token.text);
      return name;
    }
    if (token.kind === 'word') {
      // Reserved words are names only through ExpressionAttributeNames ("#s": "status").
      if (DYNAMODB_RESERVED_WORDS.has(token.text.toUpperCase())) {
        throw this.invalid(`Attribute name is a reserved keyword; reserved keyword: ${token.text}`);
      }
      return token.text;
    }
    throw this.syntaxError(token);
  }

  /** `a, #b.c`: the attribute paths a projection keeps. */
  projection(): string[][] {
    const paths = [this.path()];
    while (this.peek()?.text === ',') {
      this.next();
      paths.push(this.path());
    }
    return paths;
  }

  /** An operand: a value placeholder or an attribute path; resolved against an item later. */
  operand(): (item: Item) => AttributeValue | undefined {
    const token = this.peek();
    if (token?.kind === 'value') {
      this.next();
      const value = this.context.values[token.text];
      if (value === undefined) {
        throw this.invalid(
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
      if (name === 'contains') {
        const path = this.path();
        this.expect(',');
        const operand = this.operand();
        this.expect(')');
        return (item) => contains(lookup(item, path), operand(item));
      }
      throw this.invalid(`The function is not supported by the sandbox: ${name}`);
    }
    const left = this.operand();
    if (this.isWord('BETWEEN')) {
      this.next();
      const low = this.operand();
      this.expect('AND');
      const high = this.operand();
      return (item) => {
        const value = left(item);
        const fromLow = order(value, low(item));
        const toHigh = order(value, high(item));
        return fromLow !== undefined && toHigh !== undefined && fromLow >= 0 && toHigh <= 0;
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
      return (item) => options.some((option) => equal(left(item), option(item)));
    }
    const operator = this.next();
    if (operator.kind !== 'op') throw this.syntaxError(operator);
    const right = this.operand();
    return (item) => {
      const [a, b] = [left(item), right(item)];
      // A missing attribute, or one of another type, is unequal to anything: `<>` is true.
      if (operator.text === '=') return equal(a, b);
      if (operator.text === '<>') return !equal(a, b);
      const sign = order(a, b);
      if (sign === undefined) return false;
      switch (operator.text) {
        case '<':
          return sign < 0;
        case '<=':
          return sign <= 0;
        case '>':
          return sign > 0;
        default:
          return sign >= 0;
      }
    };
  }

  /**
   * A Query's key condition: `pk = :v`, and optionally `AND` one condition on the sort key (`=`,
   * `<`, `<=`, `>`, `>=`, `BETWEEN :a AND :b`, `begins_with(sk, :p)`), in either order, in
   * parentheses or not. Refused as DynamoDB refuses them (its messages, as dynalite records them
   * from DynamoDB): OR, NOT, IN, `<>` and the other functions; a condition on two attributes, on
   * none, on a nested attribute; two conditions on one key.
   */
  keyConditions(): KeyCondition[] {
    const conditions: KeyCondition[] = [];
    this.keyConjunction(conditions);
    return conditions;
  }

  private keyConjunction(conditions: KeyCondition[]): void {
    this.keyTerm(conditions);
    for (;;) {
      if (this.isWord('OR') || this.isWord('NOT') || this.isWord('IN')) {
        throw this.invalidKeyOperator(this.next().text.toUpperCase());
      }
      if (!this.isWord('AND')) return;
      this.next();
      this.keyTerm(conditions);
    }
  }

  private invalidKeyOperator(operator: string): DynamoError {
    return validation(`Invalid operator used in KeyConditionExpression: ${operator}`);
  }

  private keyTerm(conditions: KeyCondition[]): void {
    const token = this.peek();
    if (token?.kind === 'word' && token.text.toUpperCase() === 'NOT') {
      throw this.invalidKeyOperator('NOT');
    }
    if (token?.text === '(') {
      this.next();
      this.keyConjunction(conditions);
      this.expect(')');
      return;
    }
    if (token?.kind === 'word' && this.tokens[this.position + 1]?.text === '(') {
      this.next();
      this.next();
      if (token.text === 'size') {
        throw validation('KeyConditionExpressions cannot contain nested operations');
      }
      if (token.text !== 'begins_with') throw this.invalidKeyOperator(token.text);
      const first = this.keyOperand();
      this.expect(',');
      const second = this.keyOperand();
      this.expect(')');
      if (!('path' in first)) {
        throw validation(
          'Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand',
        );
      }
      const [prefixType] = 'value' in second ? typed(second.value) : ['S'];
      if (prefixType !== 'S' && prefixType !== 'B') {
        throw this.invalid(
          `Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${prefixType}`,
        );
      }
      this.addKeyCondition(conditions, 'begins_with', [first, second]);
      return;
    }
    const left = this.keyOperand();
    if (this.isWord('BETWEEN')) {
      this.next();
      const low = this.keyOperand();
      this.expect('AND');
      const high = this.keyOperand();
      if (!('path' in left)) {
        throw validation(
          'Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand',
        );
      }
      this.addKeyCondition(conditions, 'BETWEEN', [left, low, high]);
      return;
    }
    if (this.isWord('IN')) throw this.invalidKeyOperator('IN');
    const operator = this.next();
    if (operator.kind !== 'op') throw this.syntaxError(operator);
    if (operator.text === '<>') throw this.invalidKeyOperator('<>');
    const right = this.keyOperand();
    // `:v < sk` is `sk > :v`.
    const flipped = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const;
    const text = operator.text as keyof typeof flipped;
    if ('path' in left || !('path' in right)) {
      this.addKeyCondition(conditions, text, [left, right]);
    } else {
      this.addKeyCondition(conditions, flipped[text], [right, left]);
    }
  }

  private keyOperand(): KeyOperand {
    const token = this.peek();
    if (token?.kind === 'word' && this.tokens[this.position + 1]?.text === '(') {
      throw validation('KeyConditionExpressions cannot contain nested operations');
    }
    if (token?.kind === 'value') {
      const value = this.operand()({});
      return { value: value as AttributeValue };
    }
    return { path: this.path() };
  }

  private addKeyCondition(
    conditions: KeyCondition[],
    operator: KeyCondition['operator'],
    operands: KeyOperand[],
  ): void {
    const paths = operands.filter((operand) => 'path' in operand);
    if (paths.length > 1) {
      throw validation(
        'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
      );
    }
    const [key] = paths;
    if (!key) {
      throw validation('Invalid condition in KeyConditionExpression: No key attribute specified');
    }
    if (key.path.length > 1) {
      throw validation('KeyConditionExpressions cannot have conditions on nested attributes');
    }
    const attribute = key.path[0] as string;
    if (conditions.some((condition) => condition.attribute === attribute)) {
      throw validation('KeyConditionExpressions must only contain one condition per key');
    }
    conditions.push({
      attribute,
      operator,
      values: operands.slice(1).map((operand) => (operand as { value: AttributeValue }).value),
    });
  }

  /** `SET a = :v, #b = :w REMOVE c, d`: the changes, applied to a copy of the item. */
  update(): { apply: (item: Item) => Item; paths: string[][] } {
    const steps: ((item: Item) => void)[] = [];
    const paths: string[][] = [];
    while (!this.done()) {
      const clause = this.next();
      const keyword = clause.text.toUpperCase();
      if (keyword !== 'SET' && keyword !== 'REMOVE') {
        throw this.invalid(`The clause is not supported by the sandbox: ${clause.text}`);
      }
      for (;;) {
        const path = this.path();
        paths.push(path);
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
    const apply = (item: Item) => {
      const copy = structuredClone(item);
      for (const step of steps) step(copy);
      return copy;
    };
    return { apply, paths };
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

/** `{"S": "x"}` → `["S", "x"]`. */
function typed(value: AttributeValue): [string, unknown] {
  return Object.entries(value)[0] ?? ['', undefined];
}

const numberOf = (text: unknown) => Number(text);

/**
 * The order of two scalars of one type (N, S, or B: bytes), or undefined when they cannot be
 * ordered (missing, another type, or not a scalar): then `<`, `<=`, `>`, `>=` are false.
 */
function order(a: AttributeValue | undefined, b: AttributeValue | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  const [typeA, valueA] = typed(a);
  const [typeB, valueB] = typed(b);
  if (typeA !== typeB) return undefined;
  if (typeA === 'N') return Math.sign(numberOf(valueA) - numberOf(valueB));
  // Strings in the order of their UTF-8 bytes, as DynamoDB compares them (a JavaScript `<`
  // compares UTF-16 code units, which differs past U+D7FF).
  if (typeA === 'S')
    return Buffer.compare(Buffer.from(String(valueA)), Buffer.from(String(valueB)));
  if (typeA === 'B') {
    return Buffer.compare(
      Buffer.from(String(valueA), 'base64'),
      Buffer.from(String(valueB), 'base64'),
    );
  }
  return undefined;
}

/** DynamoDB's equality: same type and value; sets in any order; false when either is missing. */
function equal(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const [type, valueA] = typed(a);
  const [typeB, valueB] = typed(b);
  if (type !== typeB) return false;
  switch (type) {
    case 'N':
      return numberOf(valueA) === numberOf(valueB);
    case 'SS':
    case 'BS':
    case 'NS': {
      const key = (each: unknown) => (type === 'NS' ? String(numberOf(each)) : String(each));
      const setA = new Set((valueA as unknown[]).map(key));
      const setB = new Set((valueB as unknown[]).map(key));
      return setA.size === setB.size && [...setA].every((each) => setB.has(each));
    }
    case 'L': {
      const [listA, listB] = [valueA as AttributeValue[], valueB as AttributeValue[]];
      return listA.length === listB.length && listA.every((each, i) => equal(each, listB[i]));
    }
    case 'M': {
      const [mapA, mapB] = [valueA as Item, valueB as Item];
      const keys = Object.keys(mapA);
      return (
        keys.length === Object.keys(mapB).length && keys.every((key) => equal(mapA[key], mapB[key]))
      );
    }
    default:
      return JSON.stringify(valueA) === JSON.stringify(valueB);
  }
}

/**
 * DynamoDB's `contains(path, operand)`: a substring of a string, an element of a set (of the
 * operand's scalar type), or an element of a list.
 */
function contains(value: AttributeValue | undefined, operand: AttributeValue | undefined): boolean {
  if (value === undefined || operand === undefined) return false;
  const [type, data] = typed(value);
  const [operandType, operandData] = typed(operand);
  if (type === 'S') return operandType === 'S' && String(data).includes(String(operandData));
  if (type === 'L') return (data as AttributeValue[]).some((each) => equal(each, operand));
  if (type === 'SS' || type === 'NS' || type === 'BS') {
    if (operandType !== type.slice(0, 1)) return false;
    return (data as unknown[]).some((each) => equal({ [operandType]: each }, operand));
  }
  return false;
}

// ---- item size ---------------------------------------------------------------------------

/**
 * A number's size: 1 byte per two significant digits, plus 1 (leading and trailing zeros do not
 * count). From "DynamoDB item sizes and formats",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
function numberSize(text: unknown): number {
  const mantissa = String(text)
    .replace(/^[+-]/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(mantissa.length, 1) / 2) + 1;
}

const utf8Bytes = (text: unknown) => Buffer.byteLength(String(text), 'utf8');
const rawBytes = (base64: unknown) => Buffer.from(String(base64), 'base64').length;

/** A value's size by DynamoDB's rules (the same page): a list or map is 3 bytes + 1 per element. */
function valueSize(value: AttributeValue): number {
  const [type, data] = typed(value);
  switch (type) {
    case 'S':
      return utf8Bytes(data);
    case 'N':
      return numberSize(data);
    case 'B':
      return rawBytes(data);
    case 'SS':
      return (data as unknown[]).reduce<number>((sum, each) => sum + utf8Bytes(each), 0);
    case 'NS':
      return (data as unknown[]).reduce<number>((sum, each) => sum + numberSize(each), 0);
    case 'BS':
      return (data as unknown[]).reduce<number>((sum, each) => sum + rawBytes(each), 0);
    case 'L':
      return (data as AttributeValue[]).reduce((sum, each) => sum + 1 + valueSize(each), 3);
    case 'M':
      return itemSize(data as Item, 1) + 3;
    default:
      // BOOL and NULL.
      return 1;
  }
}

/** An item's size: each attribute's name (UTF-8 bytes) and value, plus `overhead` per attribute. */
function itemSize(item: Item, overhead = 0): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + overhead + utf8Bytes(name) + valueSize(value),
    0,
  );
}

// ---- Query and Scan ----------------------------------------------------------------------

/** A Query or Scan page reads at most 1 MB (Query, Scan: "1 MB limit"). */
const PAGE_BYTES = 1024 * 1024;

/** The order of two key values: by type first (a sandbox table declares none), then by value. */
function keyValueOrder(a: AttributeValue | undefined, b: AttributeValue | undefined): number {
  const [typeA] = a ? typed(a) : [''];
  const [typeB] = b ? typed(b) : [''];
  if (typeA !== typeB) return typeA < typeB ? -1 : 1;
  return order(a, b) ?? 0;
}

function keyConditionHolds(condition: KeyCondition, value: AttributeValue | undefined): boolean {
  const [first, second] = condition.values;
  switch (condition.operator) {
    case '=':
      return equal(value, first);
    case 'begins_with': {
      if (value === undefined || first === undefined) return false;
      const [type, data] = typed(value);
      const [prefixType, prefix] = typed(first);
      if (type !== prefixType) return false;
      if (type === 'S') return String(data).startsWith(String(prefix));
      if (type === 'B') {
        const bytes = Buffer.from(String(data), 'base64');
        const start = Buffer.from(String(prefix), 'base64');
        return bytes.subarray(0, start.length).equals(start);
      }
      return false;
    }
    case 'BETWEEN': {
      const low = order(value, first);
      const high = order(value, second);
      return low !== undefined && high !== undefined && low >= 0 && high <= 0;
    }
    default: {
      const sign = order(value, first);
      if (sign === undefined) return false;
      return { '<': sign < 0, '<=': sign <= 0, '>': sign > 0, '>=': sign >= 0 }[condition.operator];
    }
  }
}

// ---- requests ----------------------------------------------------------------------------

/**
 * The request's expression attribute names and values, refused as DynamoDB refuses them when the
 * request has none of the operation's `expressions`, or when they are empty.
 */
function contextOf(request: Record<string, unknown>, expressions: ExpressionName[]): Context {
  const names = request.ExpressionAttributeNames as Record<string, string> | undefined;
  const values = request.ExpressionAttributeValues as Record<string, AttributeValue> | undefined;
  const hasExpression = expressions.some((name) => typeof request[name] === 'string');
  for (const [given, parameter] of [
    [names, 'ExpressionAttributeNames'],
    [values, 'ExpressionAttributeValues'],
  ] as const) {
    if (given === undefined) continue;
    if (!hasExpression) {
      throw validation(`${parameter} can only be specified when using expressions`);
    }
    if (Object.keys(given).length === 0) throw validation(`${parameter} must not be empty`);
  }
  return {
    names: names ?? {},
    values: values ?? {},
    used: { names: new Set(), values: new Set() },
  };
}

function parseWhole<T>(
  expression: string,
  expressionName: ExpressionName,
  context: Context,
  parse: (parser: Parser) => T,
): T {
  const parser = new Parser(expression, expressionName, context);
  const result = parse(parser);
  parser.end();
  return result;
}

/** The attributes at `paths` of an item, nested maps kept as maps. */
function project(item: Item, paths: string[][]): Item {
  const result: Item = {};
  for (const path of paths) {
    const value = lookup(item, path);
    if (value === undefined) continue;
    let target = result;
    for (const part of path.slice(0, -1)) {
      target[part] ??= { M: {} };
      target = target[part].M as Item;
    }
    target[path.at(-1) as string] = structuredClone(value);
  }
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

const UPDATE_RETURN_VALUES = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];
type UpdateReturnValues = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';

/** PutItem's and DeleteItem's ReturnValues: NONE, or ALL_OLD (the item before, if there was one). */
function returnedOld(request: Record<string, unknown>, old: Item | undefined): object {
  const returnValues = request.ReturnValues ?? 'NONE';
  if (returnValues !== 'NONE' && returnValues !== 'ALL_OLD') {
    throw validation('ReturnValues can only be ALL_OLD or NONE');
  }
  return returnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
}

// ---- tables ------------------------------------------------------------------------------

/**
 * What is wrong with a table name, in DynamoDB's words (its TableName constraint: 3 to 255 of
 * `[a-zA-Z0-9_.-]`). The AWS CLI checks the length itself, before sending.
 */
export function tableNameErrors(name: unknown): string[] {
  if (typeof name !== 'string') {
    return ["Value null at 'tableName' failed to satisfy constraint: Member must not be null"];
  }
  const at = `Value '${name}' at 'tableName' failed to satisfy constraint: Member must`;
  return [
    ...(/^[a-zA-Z0-9_.-]+$/.test(name)
      ? []
      : [`${at} satisfy regular expression pattern: [a-zA-Z0-9_.-]+`]),
    ...(name.length < 3 ? [`${at} have length greater than or equal to 3`] : []),
    ...(name.length > 255 ? [`${at} have length less than or equal to 255`] : []),
  ];
}

/** DynamoDB's request validation: "1 validation error detected: …", or "2 validation errors …". */
function constraintErrors(errors: string[]): DynamoError {
  const count = `${errors.length} validation error${errors.length === 1 ? '' : 's'}`;
  return validation(`${count} detected: ${errors.join('; ')}`);
}

/** The request's ProjectionExpression, parsed (its names and values checked), if it has one. */
function projectionOf(request: Record<string, unknown>, context: Context) {
  return typeof request.ProjectionExpression === 'string'
    ? parseWhole(request.ProjectionExpression, 'ProjectionExpression', context, (parser) =>
        parser.projection(),
      )
    : undefined;
}

export class DynamoStore {
  private readonly tables = new Map<string, Table>();

  /** Throws on a name DynamoDB would refuse. */
  createTable(name: string, keys: string[]): void {
    const errors = tableNameErrors(name);
    if (errors.length > 0) throw constraintErrors(errors);
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
    const errors = tableNameErrors(name);
    if (errors.length > 0) throw constraintErrors(errors);
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

  /**
   * The request's ConditionExpression, parsed now (a bad one is refused before anything is
   * evaluated), as a check that throws ConditionalCheckFailedException when it does not hold.
   */
  private condition(
    request: Record<string, unknown>,
    context: Context,
  ): (existing: Item | undefined) => void {
    if (typeof request.ConditionExpression !== 'string') return () => {};
    const condition = parseWhole(
      request.ConditionExpression,
      'ConditionExpression',
      context,
      (parser) => parser.condition(),
    );
    return (existing) => this.check(condition, request, existing);
  }

  private check(
    condition: (item: Item) => boolean,
    request: Record<string, unknown>,
    existing: Item | undefined,
  ) {
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
    switch (operation) {
      case 'GetItem': {
        const context = contextOf(request, ['ProjectionExpression']);
        const paths = projectionOf(request, context);
        checkAllUsed(context);
        const item = table.items.get(this.keyOf(table, request.Key));
        if (!item) return {};
        return { Item: paths ? project(item, paths) : item };
      }
      case 'PutItem': {
        const context = contextOf(request, ['ConditionExpression']);
        const item = (request.Item ?? {}) as Item;
        const key = this.keyOf(
          table,
          Object.fromEntries(table.keys.map((name) => [name, item[name]])),
        );
        const check = this.condition(request, context);
        checkAllUsed(context);
        if (itemSize(item) > MAX_ITEM_BYTES) {
          throw validation('Item size has exceeded the maximum allowed size');
        }
        const old = table.items.get(key);
        check(old);
        table.items.set(key, structuredClone(item));
        return returnedOld(request, old);
      }
      case 'UpdateItem': {
        const context = contextOf(request, ['ConditionExpression', 'UpdateExpression']);
        const key = this.keyOf(table, request.Key);
        const existing = table.items.get(key);
        const check = this.condition(request, context);
        const update = parseWhole(
          String(request.UpdateExpression ?? ''),
          'UpdateExpression',
          context,
          (parser) => parser.update(),
        );
        checkAllUsed(context);
        const returnValues = request.ReturnValues ?? 'NONE';
        if (!UPDATE_RETURN_VALUES.includes(String(returnValues))) {
          throw constraintErrors([
            `Value '${String(returnValues)}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [${UPDATE_RETURN_VALUES.join(', ')}]`,
          ]);
        }
        check(existing);
        const updated = update.apply({ ...(existing ?? {}), ...((request.Key ?? {}) as Item) });
        if (itemSize(updated) > MAX_ITEM_BYTES) {
          throw validation('Item size to update has exceeded the maximum allowed size');
        }
        table.items.set(key, updated);
        // UPDATED_*: only what the expression named (a nested path as a map fragment).
        const returned = {
          NONE: undefined,
          ALL_OLD: existing,
          ALL_NEW: updated,
          UPDATED_OLD: existing && project(existing, update.paths),
          UPDATED_NEW: project(updated, update.paths),
        }[returnValues as UpdateReturnValues];
        return returned && Object.keys(returned).length > 0 ? { Attributes: returned } : {};
      }
      case 'DeleteItem': {
        const context = contextOf(request, ['ConditionExpression']);
        const key = this.keyOf(table, request.Key);
        const check = this.condition(request, context);
        checkAllUsed(context);
        const old = table.items.get(key);
        check(old);
        table.items.delete(key);
        return returnedOld(request, old);
      }
      case 'Query':
      case 'Scan':
        return this.read(operation, table, request);
      default:
        throw new DynamoError(
          'UnknownOperationException',
          `The operation ${operation} is not supported by the sandbox`,
        );
    }
  }

  /**
   * Query and Scan, as DynamoDB answers them: the items in key order (a Query's by its sort key,
   * backwards with `ScanIndexForward: false`; a Scan's by partition key, then sort key — DynamoDB's
   * own order is its hash's, the sandbox's is stable), read from after `ExclusiveStartKey` until
   * `Limit` items are read or 1 MB (the last item read may cross it), then filtered
   * (`FilterExpression`), then projected. `ScannedCount` is what was read, `Count` what passed the
   * filter; `LastEvaluatedKey` (the last read item's key) when the read stopped at `Limit` or at
   * 1 MB — even when nothing is left, as DynamoDB does. Indexes, parallel scans and the legacy
   * parameters (KeyConditions, QueryFilter, ScanFilter, AttributesToGet) are not emulated: refused.
   */
  private read(operation: 'Query' | 'Scan', table: Table, request: Record<string, unknown>) {
    const isQuery = operation === 'Query';
    const legacy = ['KeyConditions', 'QueryFilter', 'ScanFilter', 'AttributesToGet'].find(
      (name) => request[name] !== undefined,
    );
    if (legacy !== undefined) {
      throw validation(`The sandbox does not support ${legacy}: use expressions`);
    }
    if (request.Segment !== undefined || request.TotalSegments !== undefined) {
      throw validation('The sandbox does not support parallel scans (Segment, TotalSegments)');
    }
    const errors: string[] = [];
    const limit = request.Limit;
    if (limit !== undefined && !(Number.isInteger(limit) && (limit as number) >= 1)) {
      errors.push(
        `Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    }
    const SELECTS = ['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES', 'COUNT'];
    const select = request.Select;
    if (select !== undefined && !SELECTS.includes(String(select))) {
      errors.push(
        `Value '${String(select)}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [${SELECTS.join(', ')}]`,
      );
    }
    if (errors.length > 0) throw constraintErrors(errors);
    if (request.IndexName !== undefined) {
      throw validation(`The table does not have the specified index: ${String(request.IndexName)}`);
    }
    if (select === 'ALL_PROJECTED_ATTRIBUTES') {
      throw validation(
        'One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries',
      );
    }

    const context = contextOf(
      request,
      isQuery
        ? ['KeyConditionExpression', 'FilterExpression', 'ProjectionExpression']
        : ['FilterExpression', 'ProjectionExpression'],
    );
    const [partitionKey, sortKey] = table.keys as [string, string | undefined];
    let conditions: KeyCondition[] = [];
    if (isQuery) {
      if (typeof request.KeyConditionExpression !== 'string') {
        throw validation(
          'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
        );
      }
      conditions = parseWhole(
        request.KeyConditionExpression,
        'KeyConditionExpression',
        context,
        (parser) => parser.keyConditions(),
      );
      this.checkKeyConditions(table, conditions);
    }
    let filter: ((item: Item) => boolean) | undefined;
    if (typeof request.FilterExpression === 'string') {
      const parser = new Parser(request.FilterExpression, 'FilterExpression', context);
      filter = parser.condition();
      parser.end();
      const key = isQuery ? table.keys.find((name) => parser.heads.has(name)) : undefined;
      if (key !== undefined) {
        throw validation(
          `Filter Expression can only contain non-primary key attributes: Primary key attribute: ${key}`,
        );
      }
    }
    const paths = projectionOf(request, context);
    checkAllUsed(context);

    const keyOrder = (a: Item, b: Item) => {
      for (const name of sortKey === undefined ? [partitionKey] : [partitionKey, sortKey]) {
        const sign = keyValueOrder(a[name], b[name]);
        if (sign !== 0) return sign;
      }
      return 0;
    };
    const forward = !(isQuery && request.ScanIndexForward === false);
    let candidates = [...table.items.values()];
    if (isQuery) {
      candidates = candidates.filter((item) =>
        conditions.every((condition) => keyConditionHolds(condition, item[condition.attribute])),
      );
    }
    candidates.sort((a, b) => (forward ? keyOrder(a, b) : keyOrder(b, a)));

    const start = request.ExclusiveStartKey as Item | undefined;
    if (start !== undefined) {
      this.checkStartKey(table, start, isQuery ? conditions : undefined);
      candidates = candidates.filter((item) =>
        forward ? keyOrder(item, start) > 0 : keyOrder(item, start) < 0,
      );
    }

    const scanned: Item[] = [];
    let bytes = 0;
    for (const item of candidates) {
      if (scanned.length === limit || bytes >= PAGE_BYTES) break;
      scanned.push(item);
      bytes += itemSize(item);
    }
    const stopped = scanned.length === limit || bytes >= PAGE_BYTES;
    const last = scanned.at(-1);
    const matching = filter ? scanned.filter(filter) : scanned;
    const items = matching.map((item) => (paths ? project(item, paths) : structuredClone(item)));
    return {
      ...(select === 'COUNT' ? {} : { Items: items }),
      Count: items.length,
      ScannedCount: scanned.length,
      ...(stopped && last
        ? { LastEvaluatedKey: Object.fromEntries(table.keys.map((name) => [name, last[name]])) }
        : {}),
    };
  }

  /** A Query's key conditions against the table's key schema, refused as DynamoDB refuses them. */
  private checkKeyConditions(table: Table, conditions: KeyCondition[]): void {
    const [partitionKey, sortKey] = table.keys as [string, string | undefined];
    if (conditions.length < 1 || conditions.length > 2) {
      throw validation('Conditions can be of length 1 or 2 only');
    }
    if (sortKey === undefined && conditions.length > 1) {
      throw validation('Query key condition not supported');
    }
    const partition = conditions.find((condition) => condition.attribute === partitionKey);
    if (partition === undefined) {
      throw validation(`Query condition missed key schema element: ${partitionKey}`);
    }
    if (
      conditions.some(
        (condition) => condition.attribute !== partitionKey && condition.attribute !== sortKey,
      )
    ) {
      throw validation(`Query condition missed key schema element: ${sortKey}`);
    }
    if (partition.operator !== '=') throw validation('Query key condition not supported');
  }

  /** An ExclusiveStartKey: the table's key, within the Query's conditions. */
  private checkStartKey(table: Table, start: Item, conditions?: KeyCondition[]): void {
    const names = Object.keys(start);
    if (names.length !== table.keys.length || table.keys.some((name) => !start[name])) {
      throw validation(
        'The provided starting key is invalid: The provided key element does not match the schema',
      );
    }
    if (conditions === undefined) return;
    const [partitionKey, sortKey] = table.keys;
    for (const condition of conditions) {
      if (keyConditionHolds(condition, start[condition.attribute])) continue;
      throw validation(
        condition.attribute === partitionKey || sortKey === undefined
          ? 'The provided starting key is outside query boundaries based on provided conditions'
          : 'The provided starting key does not match the range key predicate',
      );
    }
  }
}
