import { Command } from 'commander';
import { contextOf, path } from './cli-context';

/** An erasure request (PIPL, GDPR art. 17). The openId is not printed back, so no log of the terminal keeps it. */
export function eraseUserCommand(): Command {
  return new Command('erase-user')
    .description('erase a user: their data keys are destroyed and the read models drop their openId')
    .argument('<appId>', 'the account')
    .argument('<openId>', "the user's openId for that account")
    .action(async (appId: string, openId: string, _options, command: Command) => {
      const context = contextOf(command);
      const answer = await context.client.json<{ status: string }>(
        'DELETE',
        `/api/apps/${path(appId)}/users/${path(openId)}`,
        undefined,
        `/api/apps/${path(appId)}/users/<openId>`,
      );
      if (context.json) return context.print(JSON.stringify(answer, null, 2));
      context.print(`${answer.status} for a user of ${appId}: their data keys are destroyed`);
    });
}
