import { Command } from 'commander';
import { contextOf, path } from './cli-context';
import { readJsonFile } from './json-file';

interface Button {
  name: string;
  type?: string;
  key?: string;
  url?: string;
  sub_button?: Button[];
}

/** The menu as an indented outline: what a user sees in the chat window. */
function outline(buttons: Button[], depth = 0): string[] {
  return buttons.flatMap((b) => [
    `${'  '.repeat(depth)}- ${b.name}${b.type ? ` [${b.type}${b.key ? ` ${b.key}` : ''}${b.url ? ` ${b.url}` : ''}]` : ''}`,
    ...outline(b.sub_button ?? [], depth + 1),
  ]);
}

export function menuCommands(): Command {
  const menu = new Command('menu').description("the account's custom menu");

  menu
    .command('publish')
    .description('publish a menu from a JSON file (the menu/create body: { "button": [...] })')
    .argument('<file>', 'the menu as JSON')
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .action(async (file: string, options: { app?: string }, command: Command) => {
      const context = contextOf(command);
      const appId = await context.appId(options.app);
      const body = readJsonFile(file);
      const published = await context.client.json<{ menu: { button: Button[] } }>(
        'PUT',
        `/api/apps/${path(appId)}/menu`,
        body,
      );
      if (context.json) return context.print(JSON.stringify(published, null, 2));
      context.print(`published the menu of ${appId}:`);
      context.print(outline(published.menu.button).join('\n'));
    });

  menu
    .command('show')
    .description('the menu WeChat has now')
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .action(async (options: { app?: string }, command: Command) => {
      const context = contextOf(command);
      const appId = await context.appId(options.app);
      const shown = await context.client.json<{ menu: { button: Button[] } }>(
        'GET',
        `/api/apps/${path(appId)}/menu`,
      );
      context.print(
        context.json ? JSON.stringify(shown.menu, null, 2) : outline(shown.menu.button).join('\n'),
      );
    });

  menu
    .command('delete')
    .description('remove the menu')
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .action(async (options: { app?: string }, command: Command) => {
      const context = contextOf(command);
      const appId = await context.appId(options.app);
      await context.client.json('DELETE', `/api/apps/${path(appId)}/menu`);
      context.print(`deleted the menu of ${appId}`);
    });

  return menu;
}
