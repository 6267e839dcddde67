import { MenuDeleted, MenuPublished } from '@wxp/contracts';
import { validateMenu } from '@wxp/wechat-api';
import { recordAdminEvent, requireAccount, type CommandContext } from './admin-commands';
import { actorOf } from './bearer-auth';
import { deleteMenu, getMenu, publishMenu } from './api-operations';
import { operation, type BoundOperation } from './operation';

/**
 * The custom menu lives at WeChat: publishing calls menu/create first and records the event only
 * once WeChat took it, so the topic never claims a menu WeChat refused.
 */
export function menuOperations(commands: CommandContext): BoundOperation[] {
  const publish = operation(publishMenu, async (ctx, { params, body }) => {
    const { appId } = params;
    requireAccount(commands.accounts, appId);
    const menu = validateMenu(body);
    await commands.wechat.createMenu(appId, menu);
    const event = await recordAdminEvent(
      commands.publish,
      MenuPublished,
      { appId, menu: menu as unknown as { button: Record<string, unknown>[] } },
      actorOf(ctx),
      'WeChat took the menu, but the change could not be recorded yet; publish it again',
    );
    ctx.body = { appId, menu, event: event.id };
  });

  const show = operation(getMenu, async (ctx, { params }) => {
    const { appId } = params;
    requireAccount(commands.accounts, appId);
    const answer = await commands.wechat.getMenu(appId);
    ctx.body = { appId, menu: answer.menu };
  });

  const remove = operation(deleteMenu, async (ctx, { params }) => {
    const { appId } = params;
    requireAccount(commands.accounts, appId);
    await commands.wechat.deleteMenu(appId);
    await recordAdminEvent(
      commands.publish,
      MenuDeleted,
      { appId },
      actorOf(ctx),
      'WeChat removed the menu, but the change could not be recorded yet; delete it again',
    );
    ctx.status = 204;
  });

  return [publish, show, remove];
}
