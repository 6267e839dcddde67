export interface ConsumerCapacity {
  applied: number;
  /** Batch handling time per applied event: the consumer cannot go faster than 1000 / this per second. */
  msPerEvent: number;
}

function sumOf(metrics: string, name: string, filter = ''): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith(name) && line.includes(filter))
    .reduce((sum, line) => sum + Number(line.split(' ').pop() ?? 0), 0);
}

/** What a consumer service's /metrics says about how fast it can apply events. */
export async function consumerCapacity(serviceUrl: string): Promise<ConsumerCapacity | undefined> {
  const metrics = await fetch(`${serviceUrl}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const applied = sumOf(metrics, 'wxp_consumer_events_total', 'outcome="applied"');
  const seconds = sumOf(metrics, 'wxp_consumer_batch_seconds_sum');
  return applied > 0 ? { applied, msPerEvent: (seconds * 1000) / applied } : undefined;
}
