import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@wxp/devstack';
import { topCosts } from './cpu-profile';
import { runLoad } from './load-generator';
import type { PhaseContext } from './phase-context';
import { distinctFollows } from './push-corpus';
import { fixed, whole, type PhaseResult } from './results';
import { gatewayEnvironment } from './push-pipeline';
import { startService } from './services';
import { measureSealingCost } from './sealing-cost';
import { measureXmlParseCost } from './xml-parse-cost';

/**
 * The gateway under `node --cpu-prof` while autocannon drives safe-mode pushes flat out (the heavier
 * mode), then the profile's top self-time costs, by function and by area.
 */
export async function gatewayProfile(context: PhaseContext): Promise<PhaseResult> {
  const started = Date.now();
  const seconds = context.scale.seconds(10, 5);
  const dir = mkdtempSync(join(tmpdir(), 'wxp-bench-profile-'));
  const account = context.accounts.safe;
  const pushes = distinctFollows(account, context.scale.count(60_000, 10_000), 'profile');
  const gateway = await startService('gateway', {
    env: gatewayEnvironment(
      context.stack.brokers,
      context.stack.mongoUrl('bench_gateway_profile'),
      context.accounts.file,
    ),
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  let load;
  try {
    load = await runLoad({ origin: gateway.url, pushes, connections: 50, durationSeconds: seconds });
  } finally {
    await gateway.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the gateway wrote no .cpuprofile');
  const costs = topCosts(join(dir, file), repoRoot());
  rmSync(dir, { recursive: true, force: true });
  context.log(
    `profile: top areas ${costs.areas
      .slice(0, 5)
      .map((a) => `${a.name} ${fixed(a.selfPercent)}%`)
      .join(', ')}`,
  );
  const xml = measureXmlParseCost(account);
  const perPush = xml.innerParseUs + xml.outerParseUs;
  const sealing = measureSealingCost();
  return {
    id: 'profile',
    title: '7. Profile of the gateway',
    setup: [
      `The gateway under \`node --cpu-prof\` for the whole process life, ${seconds} s of safe-mode pushes flat out (${whole(load.requestsPerSecond)} req/s while profiled), start-up and shut-down included.`,
      'Self time: the samples in which the function itself was running, as a share of all samples (idle included).',
    ],
    figures: [],
    tables: [
      {
        headers: ['area (package, node module or file)', 'self time %'],
        rows: costs.areas.map((a) => [a.name, fixed(a.selfPercent)]),
      },
      {
        headers: ['function', 'self time %'],
        rows: costs.functions.map((f) => [f.name, fixed(f.selfPercent)]),
      },
    ],
    notes: [
      `Measured in the benchmark process with the gateway's parser: one safe-mode push costs ${fixed(perPush, 1)} µs of XML (decrypted message ${fixed(xml.innerParseUs, 1)} µs, envelope ${fixed(xml.outerParseUs, 1)} µs), of which fast-xml-parser's well-formedness validation is ${fixed(xml.innerValidateUs + xml.outerValidateUs, 1)} µs; at the profiled rate that is ${fixed((perPush * load.requestsPerSecond) / 10_000, 1)} % of one core.`,
      `Crypto-shredding, measured the same way: sealing a text message's personal fields costs ${fixed(sealing.sealUs, 1)} µs and its pseudonym ${fixed(sealing.pseudonymUs, 1)} µs per push (${fixed((sealing.sealUs + sealing.pseudonymUs) / perPush, 2)}× the push's XML), opening it ${fixed(sealing.openUs, 1)} µs per event and consumer; the data key itself comes from a per-process cache (one store read per user and cache lifetime).`,
    ],
    seconds: (Date.now() - started) / 1000,
  };
}
