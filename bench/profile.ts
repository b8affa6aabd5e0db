/**
 * Where a cold start's time goes, from a V8 CPU profile (`node --cpu-prof`) of one fresh
 * invocation: each sample's self time is charged to the package its code came from (the bundle's
 * source map says which), or to V8 compiling the bundle, Node.js's own modules, garbage
 * collection, or idle time (waiting on the network).
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/@smithy/core/…` → `@smithy/core`; the project's own files → `(this project)`. */
function packageOf(source: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  return match ? (match[1] as string) : '(this project)';
}

function categoryOf(
  frame: ProfileNode['callFrame'],
  bundleUrl: string,
  map: SourceMap | undefined,
): string {
  const { functionName, url, lineNumber, columnNumber } = frame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle (waiting on the network)';
  if (functionName === '(program)') return 'V8 and Node.js (native)';
  if (functionName === 'wrapSafe' || functionName === 'compileFunction') {
    return 'compiling the bundle (V8 parse)';
  }
  if (url.endsWith(bundleUrl) && map) {
    const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string };
    return entry.originalSource ? packageOf(entry.originalSource) : '(bundle, unmapped)';
  }
  if (url.startsWith('node:') || url === '' || !url.includes('/')) {
    return 'Node.js built-in modules';
  }
  return 'other';
}

export type Breakdown = [category: string, ms: number][];

/**
 * Milliseconds of self time per category, largest first: before `splitMicros` (on the profiler's
 * clock: the import) and after it (the first invocation).
 */
export function summarizeProfile(
  profilePath: string,
  bundlePath: string,
  splitMicros: number,
): { import: Breakdown; invocation: Breakdown } {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  let map: SourceMap | undefined;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${bundlePath}.map`, 'utf8')));
  } catch {
    map = undefined;
  }
  const bundleUrl = bundlePath.split('/').slice(-2).join('/');
  const categories = new Map<number, string>();
  for (const node of profile.nodes) {
    categories.set(node.id, categoryOf(node.callFrame, bundleUrl, map));
  }
  const before = new Map<string, number>();
  const after = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    const totals = at <= splitMicros ? before : after;
    const category = categories.get(id) ?? 'other';
    totals.set(category, (totals.get(category) ?? 0) + delta / 1000);
  });
  const sorted = (totals: Map<string, number>): Breakdown =>
    [...totals.entries()].sort((a, b) => b[1] - a[1]);
  return { import: sorted(before), invocation: sorted(after) };
}
