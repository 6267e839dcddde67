import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './admin-http-client';
import { contextOf, integerOption, path, sceneOf, type CliContext } from './cli-context';
import { table } from './tables';

interface QrCodeListed {
  scene: string;
  kind: string;
  name?: string;
  expiresAt?: string;
  expired: boolean;
  createdAt: string;
  stats: { scans: number; subscribes: number; returning: number; unsubscribes: number };
}

const formatOf = (file: string, format?: string) =>
  format ?? (file.toLowerCase().endsWith('.svg') ? 'svg' : 'png');

async function writeImage(
  context: CliContext,
  appId: string,
  scene: string,
  file: string,
  format?: string,
  size?: number,
): Promise<string> {
  const kind = formatOf(file, format);
  if (kind !== 'png' && kind !== 'svg') throw new CliError(`--format must be png or svg, got ${kind}`);
  const query = `format=${kind}${size === undefined ? '' : `&size=${size}`}`;
  const image = await context.client.bytes(`/api/apps/${path(appId)}/qrcodes/${path(scene)}/image?${query}`);
  const target = resolve(file);
  writeFileSync(target, image);
  return target;
}

export function qrCommands(): Command {
  const qr = new Command('qr').description('QR codes for campaigns');

  qr.command('create')
    .description('create a parametric QR code and write its image')
    .requiredOption(
      '--scene <scene>',
      'digits for a numeric scene (1..4294967295), else text (1..64 characters)',
    )
    .addOption(
      new Option('--kind <kind>', 'temporary or permanent')
        .choices(['temporary', 'permanent'])
        .default('temporary'),
    )
    .option(
      '--expire <seconds>',
      'how long a temporary code is valid (up to 2592000)',
      integerOption('--expire'),
    )
    .option('--name <name>', "the campaign's name")
    .option('--out <file>', 'where to write the image (.png or .svg); default qrcode-<scene>.png')
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .action(
      async (
        options: { scene: string; kind: string; expire?: number; name?: string; out?: string; app?: string },
        command: Command,
      ) => {
        const context = contextOf(command);
        const appId = await context.appId(options.app);
        const created = await context.client.json<Record<string, unknown>>(
          'POST',
          `/api/apps/${path(appId)}/qrcodes`,
          {
            kind: options.kind,
            scene: sceneOf(options.scene),
            ...(options.expire === undefined ? {} : { expireSeconds: options.expire }),
            ...(options.name === undefined ? {} : { name: options.name }),
          },
        );
        const scene = String(created.scene);
        // Rendered here from the code's URL, as the API renders it: the campaign list that serves
        // images is a projection and may not have the new code yet.
        const file = resolve(options.out ?? `qrcode-${scene}.png`);
        // Loaded here only: the WeChat API package brings the store's driver, which other commands do not need.
        const { renderQrCode } = await import('@wxp/wechat-api');
        writeFileSync(file, await renderQrCode(String(created.url), formatOf(file) as 'png' | 'svg'));
        if (context.json) return context.print(JSON.stringify({ ...created, file }, null, 2));
        context.print(
          `created ${String(created.kind)} QR code for scene ${scene}${created.name ? ` (${String(created.name)})` : ''}`,
        );
        context.print(`  url:     ${String(created.url)}`);
        if (created.expiresAt) context.print(`  expires: ${String(created.expiresAt)}`);
        context.print(`  image:   ${file}`);
      },
    );

  qr.command('list')
    .description('the QR codes of an account with their figures, newest first')
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .action(async (options: { app?: string }, command: Command) => {
      const context = contextOf(command);
      const appId = await context.appId(options.app);
      const { qrcodes } = await context.client.json<{ qrcodes: QrCodeListed[] }>(
        'GET',
        `/api/apps/${path(appId)}/qrcodes`,
      );
      if (context.json) return context.print(JSON.stringify(qrcodes, null, 2));
      if (qrcodes.length === 0) return context.print(`${appId} has no QR codes yet (wxp qr create --help)`);
      context.print(
        table(
          ['scene', 'name', 'kind', 'expires', 'scans', 'new', 'returning', 'unfollows'],
          qrcodes.map((q) => [
            q.scene,
            q.name ?? '',
            q.kind,
            q.expiresAt
              ? `${q.expiresAt.slice(0, 16).replace('T', ' ')}${q.expired ? ' (expired)' : ''}`
              : 'never',
            q.stats.scans,
            q.stats.subscribes,
            q.stats.returning,
            q.stats.unsubscribes,
          ]),
        ),
      );
    });

  qr.command('image')
    .description("write a campaign's QR code as PNG or SVG")
    .argument('<scene>', 'the scene of the code')
    .option('--out <file>', 'where to write it; default qrcode-<scene>.<format>')
    .addOption(new Option('--format <format>', 'png or svg; default from --out').choices(['png', 'svg']))
    .option('--size <pixels>', 'width in pixels (64..2048)', integerOption('--size'))
    .option('--app <appId>', 'the account (may be left out when there is one)')
    .action(
      async (
        scene: string,
        options: { out?: string; format?: string; size?: number; app?: string },
        command: Command,
      ) => {
        const context = contextOf(command);
        const appId = await context.appId(options.app);
        const file = options.out ?? `qrcode-${scene}.${options.format ?? 'png'}`;
        context.print(await writeImage(context, appId, scene, file, options.format, options.size));
      },
    );

  return qr;
}
