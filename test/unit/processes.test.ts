/**
 * The check after the run (test/setup/global-teardown.ts) finds a process the suite left running
 * by the marker in its environment (even one in a process group of its own, with a reduced
 * environment), names it, ends it, and leaves alone what carries another marker.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { endLeftBehind, processesWith, RUN_MARKER } from '../helpers/processes.ts';

describe('what the tests leave running', () => {
  it('finds a left-behind process by its marker, names it, and ends it', async () => {
    // A marker of this test's own: the run's is also carried by jest and its workers.
    const marker = `unit-${randomUUID()}`;
    const other = `unit-${randomUUID()}`;
    const leftBehind = spawn('sleep', ['30'], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, [RUN_MARKER]: marker },
    });
    leftBehind.unref();
    const unrelated = spawn('sleep', ['31'], {
      stdio: 'ignore',
      env: { PATH: process.env.PATH, [RUN_MARKER]: other },
    });
    try {
      const found = processesWith(RUN_MARKER, marker);
      const excepted = processesWith(RUN_MARKER, marker, [leftBehind.pid as number]);
      const ended = await endLeftBehind(RUN_MARKER, marker, 200);
      const after = processesWith(RUN_MARKER, marker);

      expect(found).toEqual([{ pid: leftBehind.pid, command: 'sleep 30' }]);
      expect(excepted).toEqual([]);
      expect(ended).toEqual(found);
      expect(after).toEqual([]);
      expect(processesWith(RUN_MARKER, other)).toEqual([
        { pid: unrelated.pid, command: 'sleep 31' },
      ]);
      expect(await endLeftBehind(RUN_MARKER, `unit-${randomUUID()}`, 200)).toEqual([]);
    } finally {
      leftBehind.kill('SIGKILL');
      unrelated.kill('SIGKILL');
    }
  });
});
