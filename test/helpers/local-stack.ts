/**
 * `npm start` as a user runs it (node scripts/start.ts: the sandbox plus real `serverless
 * offline`), on free ports, for end-to-end tests over real HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../scripts/local-stack.ts';

const ROOT = join(__dirname, '..', '..');
const READY = /ngrok Event Streams API running at (http:\/\/\S+)/;

export interface LocalStack {
  apiUrl: string;
  sandboxUrl: string;
  sandboxPort: number;
  output(): string;
  /** Ctrl-C, as a user would press it; resolves with the exit code. */
  stop(): Promise<number | null>;
  process: ChildProcess;
}

export async function startLocalStack(
  env: Record<string, string> = {},
  args: string[] = [],
  timeoutMs = 90_000,
): Promise<LocalStack> {
  const port = await freePort();
  const sandboxPort = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.ts'), ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      SANDBOX_PORT: String(sandboxPort),
      SANDBOX_QUIET: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

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
  });

  return {
    apiUrl,
    sandboxUrl: `http://127.0.0.1:${sandboxPort}`,
    sandboxPort,
    output: () => output,
    process: child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
