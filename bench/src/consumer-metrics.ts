export interface ConsumerCapacity {
  applied: number;
  /** Calls of the handler, each applying a group of partitions' batches. */
  calls: number;
  /** Mean time of one call (groups run side by side, so this is no ceiling on the rate). */
  msPerCall: number;
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
  const seconds = sumOf(metrics, 'wxp_consumer_apply_seconds_sum');
  const calls = sumOf(metrics, 'wxp_consumer_apply_seconds_count');
  return applied > 0 && calls > 0 ? { applied, calls, msPerCall: (seconds * 1000) / calls } : undefined;
}
