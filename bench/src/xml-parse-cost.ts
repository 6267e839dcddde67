import { parseXmlPush } from '@wxp/gateway/dist/push-parser';
import { XMLValidator } from 'fast-xml-parser';
import type { Account } from '@wxp/accounts';
import { followFields, wirePush } from './push-corpus';

export interface XmlParseCost {
  /** Microseconds per call of the gateway's parser, well-formedness check included. */
  innerParseUs: number;
  outerParseUs: number;
  /** Microseconds of that spent in fast-xml-parser's validator alone. */
  innerValidateUs: number;
  outerValidateUs: number;
}

/** Microseconds per call of `work`, after a warm-up of a quarter as many calls. */
export function microsecondsPer(work: () => unknown, calls = 20_000): number {
  for (let i = 0; i < calls / 4; i++) work();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) work();
  return Number(process.hrtime.bigint() - started) / calls / 1000;
}

/**
 * What XML costs the gateway per safe-mode push, measured in this process with the gateway's own
 * parser: the decrypted message and the outer envelope each go through validation and parsing.
 */
export function measureXmlParseCost(account: Account): XmlParseCost {
  const now = Math.floor(Date.now() / 1000);
  const inner = wirePush({ ...account, encryptMode: 'plain' }, followFields(account, 'oXmlCost', now)).body;
  const outer = wirePush(account, followFields(account, 'oXmlCost', now)).body;
  return {
    innerParseUs: microsecondsPer(() => parseXmlPush(inner)),
    outerParseUs: microsecondsPer(() => parseXmlPush(outer)),
    innerValidateUs: microsecondsPer(() => XMLValidator.validate(inner)),
    outerValidateUs: microsecondsPer(() => XMLValidator.validate(outer)),
  };
}
