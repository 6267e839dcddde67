import type { Account } from '@wxp/accounts';
import { listApps } from './api-operations';
import { operation, type BoundOperation } from './operation';

export function accountOperations(accounts: ReadonlyMap<string, Account>): BoundOperation[] {
  return [
    operation(listApps, async (ctx) => {
      ctx.body = {
        apps: [...accounts.values()].map(({ appId, encryptMode, format }) => ({
          appId,
          encryptMode,
          format,
        })),
      };
    }),
  ];
}
