import type { PhaseContext } from './phase-context';
import type { PhaseResult } from './results';

export async function gatewayProfile(_context: PhaseContext): Promise<PhaseResult> {
  throw new Error('not written yet');
}
