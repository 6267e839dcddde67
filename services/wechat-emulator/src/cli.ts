#!/usr/bin/env node
import { parseArgs } from 'node:util';

const usage = `usage: npm run wechat -- <command> [arguments] [--user <name>] [--app <appId>]

Acts as WeChat towards the gateway, through the emulator (WECHAT_EMULATOR_URL, default
http://127.0.0.1:8089). Pushes are signed and encrypted per the account's mode and retried
like WeChat's (5 s each, three tries).

  scan <ticket>     the user scans a QR code: subscribe with qrscene_ when not following, SCAN when following
  follow            the user follows without a code
  unfollow          the user unfollows
  click <key>       the user clicks a menu button
  view <url>        the user opens a menu link
  text <content>    the user sends a text message
  state             what the emulator holds (tokens, QR codes, users, menu, messages sent)
  reset             forget everything but the accounts

--app may be left out when the emulator knows one account.`;

const base = (process.env.WECHAT_EMULATOR_URL ?? 'http://127.0.0.1:8089').replace(/\/$/, '');

async function request(path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: Error) => {
    throw new Error(`the emulator at ${base} does not answer (${error.message}); is the stack running?`);
  });
  const answer = (await response.json()) as { message?: string };
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

async function onlyApp(): Promise<string> {
  const state = (await request('/emulator/state')) as { apps: { appId: string }[] };
  if (state.apps.length !== 1) {
    throw new Error(
      `the emulator knows ${state.apps.length} accounts; name one with --app (${state.apps.map((a) => a.appId).join(', ')})`,
    );
  }
  return (state.apps[0] as { appId: string }).appId;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { user: { type: 'string' }, app: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, argument] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  if (command === 'state') {
    process.stdout.write(
      `${JSON.stringify(await request(`/emulator/state${values.app ? `?appId=${values.app}` : ''}`), null, 2)}\n`,
    );
    return 0;
  }
  if (command === 'reset') {
    await request('/emulator/reset', {});
    process.stdout.write('emulator reset\n');
    return 0;
  }
  const needs: Record<string, string | undefined> = {
    scan: 'ticket',
    click: 'key',
    view: 'url',
    text: 'content',
    follow: undefined,
    unfollow: undefined,
  };
  if (!(command in needs)) throw new Error(`unknown command "${command}"\n${usage}`);
  const field = needs[command];
  if (field && !argument) throw new Error(`${command} needs a ${field}`);
  if (!values.user) throw new Error(`${command} needs --user <name>`);
  const appId = values.app ?? (await onlyApp());
  const result = (await request('/emulator/simulate', {
    appId,
    user: values.user,
    action: command,
    ...(field ? { [field]: argument } : {}),
  })) as {
    openId: string;
    delivered: boolean;
    attempts: {
      attempt: number;
      status: unknown;
      body?: string;
      ms: number;
      answer?: { kind: string; reason?: string };
    }[];
    fields: Record<string, unknown>;
    reply?: Record<string, unknown>;
  };
  for (const attempt of result.attempts) {
    // A passive reply is shown decrypted below, not as the ciphertext that came back.
    const shown = attempt.answer?.kind === 'reply' ? 'reply' : (attempt.body ?? '');
    const problem =
      attempt.answer?.kind === 'invalid' ? ` (WeChat cannot read it: ${attempt.answer.reason})` : '';
    process.stdout.write(
      `try ${attempt.attempt}: ${String(attempt.status)} ${shown}${problem} (${attempt.ms} ms)\n`,
    );
  }
  if (result.reply) process.stdout.write(`reply ${describeReply(result.reply)}\n`);
  process.stdout.write(
    `${result.delivered ? 'delivered' : 'NOT delivered'}: ${String(result.fields.Event ?? result.fields.MsgType)} from ${values.user} (${result.openId})\n`,
  );
  return result.delivered ? 0 : 1;
}

/** A passive reply as the user sees it: the text, or the kind and what it shows. */
function describeReply(reply: Record<string, unknown>): string {
  const { ToUserName: _to, FromUserName: _from, CreateTime: _at, MsgType: type, ...content } = reply;
  if (type === 'text') return `text: ${String(content.Content)}`;
  return `${String(type)}: ${JSON.stringify(content)}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`wechat: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
