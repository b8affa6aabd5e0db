/**
 * A webhook delivery's metric: `AlertDeliveries` (dimension `operation` from the route) and one
 * `Alerts<Outcome>` count per outcome, so that a dashboard shows how many alerts raised, extended,
 * ended or matched nothing.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '../observability/metrics.ts';

const NAMES: Record<string, string> = {
  'override-set': 'AlertsOverrideSet',
  'override-extended': 'AlertsOverrideExtended',
  'override-ended': 'AlertsOverrideEnded',
  'no-incident': 'AlertsNoIncident',
  ignored: 'AlertsIgnored',
  duplicate: 'AlertsDuplicate',
};

export function countOutcomes(outcomes: readonly string[]): void {
  metrics.addMetric('AlertDeliveries', MetricUnit.Count, 1);
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  for (const [outcome, count] of counts) {
    metrics.addMetric(NAMES[outcome] ?? 'AlertsIgnored', MetricUnit.Count, count);
  }
}
