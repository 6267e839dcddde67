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

export interface GatewaySealing {
  pushes: number;
  /** Mean time to seal a push's event, its new data key stored included. */
  sealMs: number;
  /** Mean time from a verified push to its event acknowledged, sealing included. */
  storedMs: number;
}

/** What the gateway's /metrics says sealing took of the time to store each push. */
export async function gatewaySealing(gatewayUrl: string): Promise<GatewaySealing | undefined> {
  const metrics = await fetch(`${gatewayUrl}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const pushes = sumOf(metrics, 'wxp_gateway_seal_seconds_count');
  if (pushes === 0) return undefined;
  return {
    pushes,
    sealMs: (sumOf(metrics, 'wxp_gateway_seal_seconds_sum') * 1000) / pushes,
    storedMs:
      (sumOf(metrics, 'wxp_gateway_broker_ack_seconds_sum') * 1000) /
      sumOf(metrics, 'wxp_gateway_broker_ack_seconds_count'),
  };
}
