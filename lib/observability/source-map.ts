/**
 * Stack traces in terms of this project's TypeScript files, for the error a log line carries.
 *
 * Node.js's `--enable-source-maps` reads and parses each bundle's source map as the bundle loads:
 * about 20 ms of every cold start, for stack traces that most invocations never print. Here a
 * bundle's map (the `.map` beside it, which the package ships) is read the first time an error
 * from it is logged, and each frame in the bundle is rewritten to the file, line and column it
 * came from: `at Zx (/var/task/functions/getEventStream.cjs:1:48213)` becomes
 * `at Zx (lib/secrets/service-secret.ts:61:11)`. Frames elsewhere (Node.js's own, a file without
 * a map) stay as they are.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

const maps = new Map<string, SourceMap | null>();
/** The bundles of one function: a few files. Beyond this, frames are left as they are. */
const MAX_FILES = 16;

function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    if (maps.size >= MAX_FILES) return null;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/**
 * A stack frame's line, `    at fn (/var/task/functions/x.cjs:1:2)` or `    at /var/…/x.cjs:1:2`:
 * never the message's lines, whatever they say.
 */
const FRAME = /^(\s+at (?:.*\()?)((?:\/|[A-Za-z]:\\)[^()\s]*?\.c?js):(\d+):(\d+)(\)?)$/gm;

interface Entry {
  generatedLine?: number;
  originalSource?: string;
  originalLine?: number;
  originalColumn?: number;
}

/** The stack with each frame in a bundle that has a source map moved to its source. */
export function sourceMappedStack(stack: string): string {
  return stack.replace(FRAME, (frame, before: string, file: string, line, column, after) => {
    const generatedLine = Number(line) - 1;
    const entry = mapOf(file)?.findEntry(generatedLine, Number(column) - 1) as Entry | undefined;
    // findEntry answers with the nearest entry before: none on this line is no answer.
    if (!entry?.originalSource || entry.generatedLine !== generatedLine) return frame;
    // The map names sources from the build folder (`../../../lib/x.ts`): from the project's root.
    const source = entry.originalSource.replace(/^(?:\.\.\/)+/, '');
    return `${before}${source}:${(entry.originalLine ?? 0) + 1}:${(entry.originalColumn ?? 0) + 1}${after}`;
  });
}
