/**
 * Jest setup (setupFilesAfterEnv), for every test file: what a test started with spawnTracked
 * (test/helpers/processes.ts) is ended after it, and what a file's hooks started after the file,
 * also when the test failed or timed out.
 */
import { endTracked, setTestRunning } from '../helpers/processes.ts';

beforeEach(() => {
  setTestRunning(true);
});

afterEach(async () => {
  setTestRunning(false);
  await endTracked('test');
});

afterAll(async () => {
  await endTracked('file');
});
