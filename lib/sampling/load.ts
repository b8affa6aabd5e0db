/**
 * Reads a sampling policy file (YAML) and validates it, naming for every problem the rule, the
 * window and the field, with the file's line and column. For `serverless package`, the scripts
 * and the tests; a function never parses YAML (the policy is bundled as validated JSON).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import {
  type Policy,
  PolicyError,
  type PolicyIssue,
  validatePolicy,
  windowLabel,
} from './policy.ts';

export const DEFAULT_POLICY_FILE = 'sampling-schedule.yml';

/** A policy file's path, relative to `root` unless absolute. */
export function policyPath(file: string | undefined, root: string): string {
  const name = file || DEFAULT_POLICY_FILE;
  return isAbsolute(name) ? name : resolve(root, name);
}

/** `rules[0] 'prod-traffic' › windows[1] 'weeknights' › start`, for an issue's path. */
function describePath(path: (string | number)[], input: unknown): string {
  const parts: string[] = [];
  let node: unknown = input;
  for (let index = 0; index < path.length; index++) {
    const key = path[index] as string | number;
    node = (node as Record<string | number, unknown> | undefined)?.[key];
    if (typeof key === 'number') {
      const name = (node as { name?: unknown } | undefined)?.name;
      const label =
        path[index - 1] === 'windows'
          ? windowLabel({ name: typeof name === 'string' ? name : null }, key)
          : typeof name === 'string'
            ? `'${name}'`
            : '';
      parts[parts.length - 1] = `${parts.at(-1)}[${key}]${label ? ` ${label}` : ''}`;
    } else {
      parts.push(key);
    }
  }
  return parts.join(' › ') || '(the file)';
}

/** The deepest node of the document on `path` (the parent, when the field is missing). */
function nodeAt(root: Node | null, path: (string | number)[]): Node | null {
  let node = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === key);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

/**
 * Parses and validates a policy's text. Throws a PolicyError whose message lists each problem
 * as `file:line:column: where: what`.
 */
export function parsePolicy(text: string, file: string): Policy {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (document.errors.length > 0) {
    const messages = document.errors.map(
      (error) => `${at(error.pos[0])}: ${error.message.split('\n')[0]}`,
    );
    throw new PolicyError(
      `${file} is not valid YAML:\n  ${messages.join('\n  ')}`,
      document.errors.map((error) => ({ path: [], message: error.message })),
    );
  }
  const input = document.toJS();
  try {
    return validatePolicy(input);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    const lines = error.issues.map((issue: PolicyIssue) => {
      const node = nodeAt(document.contents, issue.path);
      const where = node?.range ? at(node.range[0]) : `${file}:1:1`;
      return `${where}: ${describePath(issue.path, input)}: ${issue.message}`;
    });
    throw new PolicyError(
      `${file} is not a valid sampling policy:\n  ${lines.join('\n  ')}`,
      error.issues,
    );
  }
}

export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyError(
      `The sampling policy ${path} cannot be read: ${(error as Error).message}`,
      [],
    );
  }
  return parsePolicy(text, path);
}
