import type { AdminEvent } from '@wxp/contracts';
import { rulesOfEvent, type ReplyRules } from './rules';

/** The rules of every account as the admin topic says now: each account's last rules event wins. */
export class ReplyRulesBook {
  private readonly byAccount = new Map<string, ReplyRules>();

  apply(event: AdminEvent): void {
    if (event.type === 'wechat.admin.reply_rules.set')
      this.byAccount.set(event.data.appId, rulesOfEvent(event));
  }

  rulesOf(appId: string): ReplyRules | undefined {
    return this.byAccount.get(appId);
  }
}
