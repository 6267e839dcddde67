import { InvalidArgumentError, type Command } from 'commander';
import { AdminHttpClient, CliError } from './admin-http-client';
import { adminToken, adminUrl } from './local-settings';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** What every API command starts from: the client, the account it acts for, and how to print. */
export interface CliContext {
  client: AdminHttpClient;
  json: boolean;
  print(line: string): void;
  appId(option?: string): Promise<string>;
}

export function contextOf(command: Command): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const client = new AdminHttpClient(adminUrl(options.url), adminToken(options.token));
  return {
    client,
    json: options.json ?? false,
    print: (line) => process.stdout.write(`${line}\n`),
    // With one account configured, --app may be left out.
    async appId(option) {
      if (option) return option;
      const { apps } = await client.json<{ apps: { appId: string }[] }>('GET', '/api/apps');
      if (apps.length === 1) return (apps[0] as { appId: string }).appId;
      throw new CliError(
        `name the account with --app (${apps.length === 0 ? 'none are configured' : apps.map((a) => a.appId).join(', ')})`,
      );
    },
  };
}

export const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/** Digits make a numeric scene (QR_SCENE), anything else a text scene (QR_STR_SCENE). */
export function sceneOf(text: string): number | string {
  return /^[1-9]\d{0,9}$/.test(text) ? Number(text) : text;
}

export function integerOption(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    return Number(value);
  };
}
