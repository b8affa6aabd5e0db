/**
 * Processes the tests start, and the proof that none outlives the run.
 *
 * Jest's global setup puts a marker in the environment (RUN_MARKER, random per run), which every
 * process the suite starts inherits, however deep and even when it leaves its parent's process
 * group (serverless offline does): after the run, test/setup/global-teardown.ts looks for live
 * processes that carry it (Linux: /proc/<pid>/environ), ends them and fails the run, naming them.
 *
 * Within a test file, `spawnTracked` starts a process with one more marker of its own, so that
 * `endTree` can end it and everything it started (found by that marker, not by parenthood, which
 * an orphan loses), and so that test/setup/processes.ts ends what a test or a file left running
 * when it failed or timed out.
 */
import {
  type ChildProcess,
  type SpawnOptions,
  type SpawnOptionsWithoutStdio,
  spawn,
} from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Set by the global setup; inherited by every process the suite starts. */
export const RUN_MARKER = 'NGROK_ES_TEST_RUN';
/** One per tracked child: it and its descendants carry it. */
const CHILD_MARKER = 'NGROK_ES_TEST_CHILD';

export interface LiveProcess {
  pid: number;
  command: string;
}

function readProc(pid: string, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    // Gone meanwhile, or not ours to read.
    return undefined;
  }
}

/**
 * The live processes whose environment holds `name=value`, but not those in `except` (this
 * process, by default). Zombies (ended, not yet reaped) have no environment left and are not
 * listed. Linux only: elsewhere, none.
 */
export function processesWith(
  name: string,
  value: string,
  except: number[] = [process.pid],
): LiveProcess[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  const wanted = `${name}=${value}`;
  return pids.flatMap((pid) => {
    if (except.includes(Number(pid))) return [];
    const environ = readProc(pid, 'environ');
    if (!environ?.split('\0').includes(wanted)) return [];
    const command = (readProc(pid, 'cmdline') ?? '').split('\0').join(' ').trim();
    return [{ pid: Number(pid), command }];
  });
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
  // Never 0 or a negative number: those would signal process groups, or every process.
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/**
 * Ends every process whose environment holds `name=value`: `gentle` (a signal) first and up to
 * `graceMs` to go, then SIGKILL, and waits until none is left (at most 10 s more). Returns those
 * that were found alive at first.
 */
export async function endProcessesWith(
  name: string,
  value: string,
  { gentle = 'SIGTERM' as NodeJS.Signals | undefined, graceMs = 3_000 } = {},
): Promise<LiveProcess[]> {
  const found = processesWith(name, value);
  if (found.length === 0) return found;
  if (gentle) for (const each of found) signal(each.pid, gentle);
  const until = Date.now() + graceMs;
  while (processesWith(name, value).length > 0 && Date.now() < until) await sleep(50);
  const killUntil = Date.now() + 10_000;
  for (;;) {
    const left = processesWith(name, value);
    if (left.length === 0) return found;
    if (Date.now() > killUntil) {
      throw new Error(
        `Still running after SIGKILL: ${left.map((each) => `${each.pid} ${each.command}`).join('; ')}`,
      );
    }
    for (const each of left) signal(each.pid, 'SIGKILL');
    await sleep(50);
  }
}

interface Tracked {
  child: ChildProcess;
  marker: string;
  /** What asks it to stop (SIGTERM; SIGINT for what a user stops with Ctrl-C). */
  stopSignal: NodeJS.Signals;
  /** Started while a test ran (ended after it), else in a file's hooks (ended after the file). */
  inTest: boolean;
}

/** Every child started with spawnTracked, and those not yet ended by endTree. */
const children = new WeakMap<ChildProcess, Tracked>();
const tracked = new Set<Tracked>();
let testRunning = false;

/** test/setup/processes.ts says when a test starts and ends. */
export function setTestRunning(running: boolean): void {
  testRunning = running;
}

export type TrackedSpawnOptions = (SpawnOptions | SpawnOptionsWithoutStdio) & {
  stopSignal?: NodeJS.Signals;
};

/**
 * `spawn`, and the child (with all it starts) is ended after the test that started it, or after
 * the file if a hook started it, whatever happens: with `stopSignal`, then SIGKILL. It carries the
 * run's marker even when `options.env` is a reduced environment.
 */
export function spawnTracked(
  command: string,
  args: string[],
  options: TrackedSpawnOptions = {},
): ChildProcess {
  const marker = randomUUID();
  const { stopSignal = 'SIGTERM', ...spawnOptions } = options;
  const env = {
    ...(spawnOptions.env ?? process.env),
    [RUN_MARKER]: process.env[RUN_MARKER],
    [CHILD_MARKER]: marker,
  };
  const child = spawn(command, args, { ...spawnOptions, env });
  const entry = { child, marker, stopSignal, inTest: testRunning };
  children.set(child, entry);
  tracked.add(entry);
  return child;
}

function entryOf(child: ChildProcess): Tracked {
  const entry = children.get(child);
  if (!entry) throw new Error('Not a child started with spawnTracked');
  return entry;
}

/** The processes `child` started that still run, itself included. */
export function treeProcesses(child: ChildProcess): LiveProcess[] {
  return processesWith(CHILD_MARKER, entryOf(child).marker);
}

/**
 * Ends a child started with `spawnTracked` and everything it started (its stop signal, up to
 * `graceMs` for all of them to go, then SIGKILL), and waits until none is left.
 */
export async function endTree(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const entry = entryOf(child);
  if (child.exitCode === null && child.signalCode === null) {
    signal(child.pid, entry.stopSignal);
  }
  // The child first: what it started may be its to end (serverless offline, for npm start).
  const until = Date.now() + graceMs;
  while (child.exitCode === null && child.signalCode === null && Date.now() < until) {
    await sleep(50);
  }
  await endProcessesWith(CHILD_MARKER, entry.marker, {
    gentle: undefined,
    graceMs: Math.max(0, until - Date.now()),
  });
  tracked.delete(entry);
}

/** Ends what a test started (`test`) or everything still tracked (`file`). */
export async function endTracked(scope: 'test' | 'file'): Promise<void> {
  const entries = [...tracked].filter((entry) => scope === 'file' || entry.inTest);
  await Promise.all(entries.map((entry) => endTree(entry.child)));
}

/**
 * What the run left behind: processes carrying `name=value` that have not ended `settleMs` after
 * being first seen (a process may be on its way out), each then ended (SIGTERM, SIGKILL).
 * Returns them; none, when everything the run started has ended.
 */
export async function endLeftBehind(
  name: string,
  value: string,
  settleMs = 2_000,
): Promise<LiveProcess[]> {
  const until = Date.now() + settleMs;
  while (processesWith(name, value).length > 0 && Date.now() < until) await sleep(100);
  return endProcessesWith(name, value);
}
