import type { PhaseContext } from '../phase-context';
import type { ReplayOutcome } from '../replay-throughput';
import type { PhaseResult } from '../results';

export async function consumerKills(_context: PhaseContext, _replay?: ReplayOutcome): Promise<PhaseResult> {
  throw new Error('not written yet');
}
