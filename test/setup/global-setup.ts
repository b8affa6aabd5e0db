/**
 * Jest global setup, in jest's own process before any worker starts: a marker, random per run,
 * in the environment that the workers and every process the tests start inherit
 * (test/helpers/processes.ts), for the global teardown to find what is still running.
 */
import { randomUUID } from 'node:crypto';
import { RUN_MARKER } from '../helpers/processes.ts';

export default function globalSetup(): void {
  process.env[RUN_MARKER] = randomUUID();
}
