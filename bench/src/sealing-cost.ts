import { randomBytes } from 'node:crypto';
import { toCanonicalEvent } from '@wxp/gateway/dist/canonical-event';
import { openEvent, pseudonymOf, sealEvent } from '@wxp/privacy';
import { BENCH_PRIVACY_KEY } from './push-pipeline';
import { microsecondsPer } from './xml-parse-cost';

export interface SealingCost {
  /** Microseconds to seal one text message's personal fields (the gateway's share per push). */
  sealUs: number;
  /** Microseconds to open it again (each consumer's share per event). */
  openUs: number;
  /** Microseconds of the pseudonym, an HMAC the gateway computes per push. */
  pseudonymUs: number;
}

/** What crypto-shredding costs per event in CPU, measured in this process with the platform's own code. */
export function measureSealingCost(): SealingCost {
  const appId = 'wxsealingcost';
  const pseudonym = (a: string, o: string) => pseudonymOf(BENCH_PRIVACY_KEY, a, o);
  const event = toCanonicalEvent(
    appId,
    {
      ToUserName: 'gh_bench',
      FromUserName: 'oSealingCost0123456789abcdef',
      CreateTime: String(Math.floor(Date.now() / 1000)),
      MsgType: 'text',
      Content: 'a message of a typical length, some forty characters',
      MsgId: '23456789012345678',
    },
    pseudonym,
  );
  const key = { id: 'bench-key', key: randomBytes(32) };
  const sealed = sealEvent(event, key);
  return {
    sealUs: microsecondsPer(() => sealEvent(event, key)),
    openUs: microsecondsPer(() => openEvent(sealed, key.key)),
    pseudonymUs: microsecondsPer(() => pseudonym(appId, 'oSealingCost0123456789abcdef')),
  };
}
