/**
 * Jest global teardown, in jest's own process after every test file has run and the workers
 * have exited: nothing the suite started may still run. What still carries the run's marker
 * (test/setup/global-setup.ts) is ended, and the run fails, naming each process.
 */
import { endLeftBehind, RUN_MARKER } from '../helpers/processes.ts';

export default async function globalTeardown(): Promise<void> {
  const marker = process.env[RUN_MARKER];
  if (!marker) return;
  const left = await endLeftBehind(RUN_MARKER, marker);
  if (left.length > 0) {
    throw new Error(
      `The tests left ${left.length} process(es) running (now ended):\n${left
        .map((each) => `  ${each.pid} ${each.command}`)
        .join('\n')}`,
    );
  }
}
