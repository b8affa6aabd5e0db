/**
 * Preloaded (`node --import`) into `serverless offline` by `npm start` (scripts/start.ts), which
 * starts it as the leader of a process group of its own. When the process that started it goes
 * away by any means, SIGKILL included (which no handler of that process sees), serverless
 * offline ends its group, itself and all it started (esbuild's service), instead of living on
 * orphaned, holding its ports and build folder: SIGTERM (it halts its servers), then SIGKILL.
 */
import { isMainThread } from 'node:worker_threads';

const CHECK_MS = 250;
const GRACE_MS = 3_000;

function signalGroup(signal: NodeJS.Signals): void {
  try {
    // The group this process leads (npm start spawns it detached); else this process alone.
    process.kill(-process.pid, signal);
  } catch {
    process.kill(process.pid, signal);
  }
}

// Function workers (worker threads) load this too: the process's main thread alone watches.
if (isMainThread) {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    setTimeout(() => signalGroup('SIGKILL'), GRACE_MS).unref();
    signalGroup('SIGTERM');
  }, CHECK_MS);
  watch.unref();
}
