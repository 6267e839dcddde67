import { loadAccounts, type Account } from '@wxp/accounts';
import type { ServedAccount } from './push-opener';
import { aesKeyOf } from '@wxp/wechat-push';

/** The accounts this gateway serves, with their AES keys decoded once. Replaced whole on reload. */
export class AccountDirectory {
  private served: ReadonlyMap<string, ServedAccount>;

  constructor(accounts: ReadonlyMap<string, Account>) {
    this.served = AccountDirectory.prepare(accounts);
  }

  static fromFile(file: string): AccountDirectory {
    return new AccountDirectory(loadAccounts(file));
  }

  private static prepare(accounts: ReadonlyMap<string, Account>): ReadonlyMap<string, ServedAccount> {
    return new Map(
      [...accounts].map(([appId, account]) => [appId, { account, aesKey: aesKeyOf(account.encodingAESKey) }]),
    );
  }

  get(appId: string): ServedAccount | undefined {
    return this.served.get(appId);
  }

  get appIds(): string[] {
    return [...this.served.keys()];
  }

  /** Swaps in a new set of accounts; a file that does not load leaves the current set in place. */
  reload(file: string): string[] {
    this.served = AccountDirectory.prepare(loadAccounts(file));
    return this.appIds;
  }
}
