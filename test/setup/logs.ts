/**
 * Jest setup (setupFilesAfterEnv), for every test file: the service's logger and metrics write
 * into test/helpers/logs.ts instead of stdout, and after the file, nothing a test registered as
 * a secret (nor anything shaped like one) may appear in what the service logged.
 */
import { logger } from '../../lib/observability/logger.ts';
import { metrics } from '../../lib/observability/metrics.ts';
import { keepLine, leakedSecrets } from '../helpers/logs.ts';

const capture = {
  log: keepLine,
  info: keepLine,
  warn: keepLine,
  error: keepLine,
  debug: keepLine,
  trace: keepLine,
};

// Powertools writes through its own `console` (a Console on stdout). Replace it on both.
for (const target of [logger, metrics] as unknown as Record<string, unknown>[]) {
  if (!(target && 'console' in target)) {
    throw new Error('Powertools no longer writes through `console`: update test/setup/logs.ts');
  }
  target.console = capture;
}

afterAll(() => {
  const leaks = leakedSecrets();
  if (leaks.length > 0) {
    throw new Error(`The service logged secrets: ${leaks.join(', ')}`);
  }
});
