/**
 * The README and the guides in docs/ hold no broken reference: every relative Markdown link
 * resolves to a file that exists, every `#anchor` to a heading of its file (GitHub's slugs), and
 * every `npm run <script>` (and `npm start`, `npm test`) they name is a script of package.json.
 * Links in fenced code blocks are not links; commands in them are still checked. External links
 * (http, https, mailto) are not checked.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A document by its path from the repository's root, with its text. */
type Docs = ReadonlyMap<string, string>;

interface Line {
  number: number;
  text: string;
  /** Inside a fenced code block (or its fence). */
  code: boolean;
}

/**
 * Each line, marked when it belongs to a fenced code block (``` or ~~~, CommonMark's rules; a
 * fence may be indented, as in a list item).
 */
function linesOf(text: string): Line[] {
  let fence: { char: string; length: number } | undefined;
  return text.split('\n').map((text, index) => {
    const opening = /^[ \t]*(`{3,}|~{3,})/.exec(text);
    if (fence) {
      const closing = /^[ \t]*(`{3,}|~{3,})\s*$/.exec(text)?.[1];
      if (closing?.[0] === fence.char && closing.length >= fence.length) fence = undefined;
      return { number: index + 1, text, code: true };
    }
    const marker = opening?.[1];
    if (
      marker &&
      !(marker[0] === '`' && text.slice(text.indexOf(marker) + marker.length).includes('`'))
    ) {
      fence = { char: marker[0] as string, length: marker.length };
      return { number: index + 1, text, code: true };
    }
    return { number: index + 1, text, code: false };
  });
}

/** The text a heading shows: inline code kept as written, links, emphasis and HTML removed. */
function headingText(source: string): string {
  return source
    .split(/(`+)([\s\S]*?)\1/)
    .map((part, index) => {
      // split with two groups: [text, ticks, code, text, ticks, code, …]
      if (index % 3 === 1) return '';
      if (index % 3 === 2) return part;
      return part
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1')
        .replace(/<[^>]+>/g, '')
        .replace(/(\*\*|__)(.+?)\1/g, '$2')
        .replace(/(^|\W)[*_](\S(?:.*?\S)?)[*_](?=\W|$)/g, '$1$2');
    })
    .join('')
    .trim();
}

/** GitHub's slug of a heading (github-slugger): lowercase, punctuation but `-` and `_` removed. */
function slugOf(heading: string): string {
  return headingText(heading)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a Markdown document: its headings' slugs (duplicates -1, -2…) and HTML ids. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const add = (slug: string) => {
    let unique = slug;
    for (let count = counts.get(slug) ?? 0; anchors.has(unique); ) {
      count += 1;
      counts.set(slug, count);
      unique = `${slug}-${count}`;
    }
    anchors.add(unique);
  };
  const lines = linesOf(text);
  lines.forEach((line, index) => {
    if (line.code) return;
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line.text);
    const next = lines[index + 1];
    if (atx) add(slugOf(atx[1] ?? ''));
    else if (
      next &&
      !next.code &&
      line.text.trim() !== '' &&
      !/^\s*([-*+]|\d+[.)])\s/.test(line.text) &&
      !line.text.includes('|') &&
      /^ {0,3}(=+|-+)\s*$/.test(next.text) &&
      (index === 0 || lines[index - 1]?.text.trim() === '')
    ) {
      add(slugOf(line.text));
    }
    for (const [, id] of line.text.matchAll(/<a\s[^>]*(?:name|id)="([^"]+)"/g))
      anchors.add(id as string);
  });
  return anchors;
}

interface Found {
  /** 1-based line of the text where it starts. */
  line: number;
  value: string;
}

/** The line (1-based) of a character of `text`. */
function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/**
 * The link targets outside code: inline links and images (whose text may span lines of one
 * paragraph) and reference definitions. Code blocks and code spans are blanked first, keeping
 * every line where it was.
 */
function targetsOf(lines: readonly Line[]): Found[] {
  const prose = lines.map((line) => (line.code ? '' : line.text)).join('\n');
  const blanked = prose
    .split(/(\n[ \t]*\n)/)
    .map((paragraph) => paragraph.replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, ' ')))
    .join('');
  const inline = /!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>\n]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g;
  const definition = /^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm;
  return [...blanked.matchAll(inline), ...blanked.matchAll(definition)]
    .map((match) => ({
      line: lineAt(blanked, match.index + match[0].lastIndexOf(match[1] as string)),
      value: (match[1] as string).replace(/^<|>$/g, ''),
    }))
    .sort((a, b) => a.line - b.line);
}

/** The scripts each `npm run <script>`, `npm start` or `npm test` of the text names, code too. */
function scriptsNamedIn(text: string): Found[] {
  return [...text.matchAll(/\bnpm\s+(?:run(?:-script)?\s+([^\s`'"),;|&]+)|(start|test)\b)/g)]
    .map((match) => ({
      line: lineAt(text, match.index),
      value: (match[1] ?? match[2] ?? '').replace(/[.:]+$/, ''),
    }))
    .filter(({ value }) => value !== '' && !value.startsWith('-'));
}

interface Problem {
  file: string;
  line: number;
  problem: string;
}

/**
 * What is broken in `docs` (paths from the repository's root): links to a file that does not
 * exist, anchors that are no heading of their file, scripts that package.json does not have.
 * `read` gives a document outside `docs` that a link points into.
 */
function problemsOf(
  docs: Docs,
  scripts: ReadonlySet<string>,
  exists: (path: string) => boolean,
  read: (path: string) => string,
): Problem[] {
  const anchors = new Map<string, Set<string>>();
  const anchorsIn = (path: string) => {
    let found = anchors.get(path);
    if (!found) {
      found = anchorsOf(docs.get(path) ?? read(path));
      anchors.set(path, found);
    }
    return found;
  };
  const problems: Problem[] = [];
  for (const [file, text] of docs) {
    const found: Problem[] = [];
    const at = (line: number, problem: string) => found.push({ file, line, problem });
    for (const { line, value: script } of scriptsNamedIn(text)) {
      if (!scripts.has(script)) at(line, `npm script "${script}" is not in package.json`);
    }
    for (const { line, value: target } of targetsOf(linesOf(text))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      const hash = target.indexOf('#');
      const path = decodeURI(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = path === '' ? file : normalize(join(dirname(file), path));
      if (resolved.startsWith('..') || !exists(resolved)) {
        at(line, `link (${target}): ${resolved} does not exist`);
      } else if (
        anchor !== undefined &&
        resolved.endsWith('.md') &&
        !anchorsIn(resolved).has(anchor)
      ) {
        at(line, `link (${target}): no heading of ${resolved} has the anchor #${anchor}`);
      }
    }
    problems.push(...found.sort((a, b) => a.line - b.line));
  }
  return problems;
}

function shown(problems: Problem[]): string[] {
  return problems.map(({ file, line, problem }) => `${file}:${line}: ${problem}`);
}

describe('The README and the guides', () => {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];
  const docs: Docs = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('are the README and every guide', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/http-api.md',
        'docs/sampling.md',
        'docs/slack.md',
        'docs/operating.md',
        'docs/performance.md',
        'docs/developing.md',
        'docs/ngrok-api.md',
      ]),
    );
  });

  it('link only to files that exist and to headings those files have, and name only scripts that exist', () => {
    const problems = problemsOf(
      docs,
      new Set(Object.keys(scripts)),
      (path) => existsSync(join(ROOT, path)),
      (path) => readFileSync(join(ROOT, path), 'utf8'),
    );

    expect(shown(problems)).toEqual([]);
  });

  it('are linked from the README, each of them', () => {
    const readme = docs.get('README.md') ?? '';
    for (const file of files.filter((each) => each.startsWith('docs/'))) {
      expect(readme).toContain(`](${file})`);
    }
  });
});

describe('The link and script check', () => {
  const check = (docs: Record<string, string>, files: string[] = []) =>
    shown(
      problemsOf(
        new Map(Object.entries(docs)),
        new Set(['start', 'test', 'bench', 'sampling:check']),
        (path) => path in docs || files.includes(path),
        (path) => {
          throw new Error(`read ${path}`);
        },
      ),
    );

  it('makes slugs as GitHub does', () => {
    expect(slugOf('The ngrok client (`lib/ngrok`)')).toBe('the-ngrok-client-libngrok');
    expect(slugOf('Logs, audit trail and metrics')).toBe('logs-audit-trail-and-metrics');
    expect(slugOf('1. Transport conventions')).toBe('1-transport-conventions');
    expect(slugOf('EventDestinationCreate / Update')).toBe('eventdestinationcreate--update');
    expect(slugOf('What next: the **guides** — [all](x.md)')).toBe('what-next-the-guides--all');
    expect(slugOf('`SECRET_ID` and _emphasis_')).toBe('secret_id-and-emphasis');
    expect([...anchorsOf('# A\n\n## A\n\n```\n# B\n```\n\nC\n---\n\n### A\n')]).toEqual([
      'a',
      'a-1',
      'c',
      'a-2',
    ]);
  });

  it('names the file, the line and the link of each broken one', () => {
    expect(
      check(
        {
          'README.md': [
            '# Title',
            '',
            'See [the guide](docs/guide.md#usage), [gone](docs/gone.md), [here](#title),',
            '[a heading that is not](#nowhere) and [the licence](LICENSE).',
            '',
            '```sh',
            'npm run bench    # exists',
            'npm run nothing  # does not',
            '[not a link](missing.md)',
            '```',
            '',
            '`npm run sampling:check -- other.yml`, `npm test`, and `npm run typo:` too.',
            '',
            'A link [over two',
            'lines](docs/guide.md#nothing-here) and `[code](missing.md)` in a span.',
          ].join('\n'),
          'docs/guide.md':
            '# Guide\n\n## Usage\n\nBack to the [README](../README.md#title), [out](../../x.md).\n',
        },
        ['LICENSE'],
      ),
    ).toEqual([
      'README.md:3: link (docs/gone.md): docs/gone.md does not exist',
      'README.md:4: link (#nowhere): no heading of README.md has the anchor #nowhere',
      'README.md:8: npm script "nothing" is not in package.json',
      'README.md:12: npm script "typo" is not in package.json',
      'README.md:15: link (docs/guide.md#nothing-here): no heading of docs/guide.md has the anchor #nothing-here',
      'docs/guide.md:5: link (../../x.md): ../x.md does not exist',
    ]);
  });
});
