/**
 * `npm start` as a user runs it (node scripts/start.ts: the sandbox plus real `serverless
 * offline`), on free ports, for end-to-end tests over real HTTP. What the stack's functions log
 * is kept with the service's logs of the test file (test/helpers/logs.ts) when it stops.
 * Nothing it starts outlives the test: a stack that is not ready in time is ended with all it
 * started, and so is one the test leaves running (test/setup/processes.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newCallerToken } from '../../lib/auth/tokens.ts';
import { freePort } from '../../scripts/local-stack.ts';
import { keepServiceLines } from './logs.ts';
import { endTree, type LiveProcess, spawnTracked, treeProcesses } from './processes.ts';

export const ROOT = join(__dirname, '..', '..');
const READY = /ngrok Event Streams API running at (http:\/\/\S+)/;

export interface LocalStack {
  apiUrl: string;
  sandboxUrl: string;
  sandboxPort: number;
  output(): string;
  /** The JSON lines the functions logged so far. */
  serviceLines(): Record<string, unknown>[];
  /** Waits until a logged line satisfies `match` (logs arrive after the answer). */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
  /**
   * Ctrl-C, as a user would press it; resolves with the exit code once it and everything it
   * started have ended (what still runs 10 s after Ctrl-C is killed).
   */
  stop(): Promise<number | null>;
  /** The processes of the stack still running: npm start's, serverless offline's, esbuild's. */
  processes(): LiveProcess[];
  process: ChildProcess;
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Where and how the stack starts, when not as the tests usually start it. */
export interface StartHow {
  /** The folder to start it in (default: this repository). */
  cwd?: string;
  /** Run it as `npm start`, as a user types it (default: `node scripts/start.ts`). */
  npm?: boolean;
  /** The API's port (default: a free one). */
  port?: number;
}

export async function startLocalStack(
  env: Record<string, string> = {},
  args: string[] = [],
  timeoutMs = 90_000,
  how: StartHow = {},
): Promise<LocalStack> {
  const port = how.port ?? (await freePort());
  const sandboxPort = await freePort();
  const cwd = how.cwd ?? ROOT;
  const [command, commandArgs] = how.npm
    ? ['npm', ['start', ...(args.length > 0 ? ['--', ...args] : [])]]
    : [process.execPath, [join(cwd, 'scripts', 'start.ts'), ...args]];
  const child = spawnTracked(command, commandArgs, {
    cwd,
    env: {
      ...process.env,
      PORT: String(port),
      SANDBOX_PORT: String(sandboxPort),
      SANDBOX_QUIET: '1',
      // A token of the test's own: the user's kept token (.local-stack/token) is never touched
      // (`DEV_API_TOKEN: ''` in `env`: the kept token, as a user's start reads it).
      DEV_API_TOKEN: newCallerToken(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    stopSignal: 'SIGINT',
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  let kept = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (!kept) keepServiceLines(output);
      kept = true;
      resolve(code);
    }),
  );

  const stop = async () => {
    await endTree(child, 10_000);
    return exited;
  };

  const apiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start was not ready in time:\n${output}`)),
      timeoutMs,
    );
    const check = () => {
      const ready = READY.exec(output);
      if (ready?.[1]) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  }).catch(async (error: Error) => {
    await stop();
    throw error;
  });

  return {
    apiUrl,
    sandboxUrl: `http://127.0.0.1:${sandboxPort}`,
    sandboxPort,
    output: () => output,
    serviceLines: () => jsonLines(output),
    waitForLine: async (match, waitMs = 10_000) => {
      const until = Date.now() + waitMs;
      while (!jsonLines(output).some(match)) {
        if (Date.now() > until) throw new Error(`No such line was logged:\n${output}`);
        await sleep(50);
      }
    },
    process: child,
    processes: () => treeProcesses(child),
    stop,
  };
}
