import { CampaignCreated, ReadModels, type CampaignRecord } from '@wxp/contracts';
import { activeCollections } from '@wxp/mongo';
import { HttpError } from '@wxp/service-runtime';
import { mayHaveBeenCarriedOut, renderQrCode } from '@wxp/wechat-api';
import type { Db } from 'mongodb';
import { recordAdminEvent, requireAccount, type CommandContext } from './admin-commands';
import { actorOf } from './bearer-auth';
import { createQrCode, listQrCodes, qrCodeImage } from './api-operations';
import { addFigures, noFigures, type Figures } from './campaign-figures';
import { operation, type BoundOperation } from './operation';

const imagePath = (appId: string, scene: string) =>
  `/api/apps/${encodeURIComponent(appId)}/qrcodes/${encodeURIComponent(scene)}/image`;

export function qrCodeOperations(db: Db, commands: CommandContext): BoundOperation[] {
  // The tag is in the campaign documents QR attribution writes since campaigns could carry one.
  const campaigns = db.collection<CampaignRecord & { tag?: string }>(ReadModels.campaigns);

  const create = operation(createQrCode, async (ctx, { params, body }) => {
    const { appId } = params;
    requireAccount(commands.accounts, appId);
    const code = await commands.wechat.createQrCode(appId, body).catch((error: unknown) => {
      if (!mayHaveBeenCarriedOut(error)) throw error;
      throw new HttpError(
        502,
        'wechat_outcome_unknown',
        'WeChat may have made the code, but its answer was lost or said it was busy; it was not asked ' +
          'again, so that no second code is spent. Ask again to make the code.',
        true,
      );
    });
    const createdAt = new Date();
    const scene = String(body.scene);
    const expiresAt =
      code.expireSeconds === undefined
        ? undefined
        : new Date(createdAt.getTime() + code.expireSeconds * 1000).toISOString();
    const event = await recordAdminEvent(
      commands.publish,
      CampaignCreated,
      {
        appId,
        scene,
        ...(typeof body.scene === 'number' ? { sceneId: body.scene } : {}),
        kind: body.kind,
        ...(body.name === undefined ? {} : { name: body.name }),
        ticket: code.ticket,
        url: code.url,
        ...(code.expireSeconds === undefined ? {} : { expireSeconds: code.expireSeconds }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
        createdAt: createdAt.toISOString(),
        ...(body.tag === undefined ? {} : { tag: body.tag }),
      },
      actorOf(ctx),
      'WeChat made the code, but the campaign could not be recorded yet, so it is not in the list; ' +
        'ask again to record it (WeChat is asked again too)',
    );
    ctx.status = 201;
    ctx.set('Location', imagePath(appId, scene));
    ctx.body = {
      appId,
      scene: body.scene,
      kind: body.kind,
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.tag === undefined ? {} : { tag: body.tag }),
      ticket: code.ticket,
      url: code.url,
      ...(code.expireSeconds === undefined ? {} : { expireSeconds: code.expireSeconds, expiresAt }),
      imageUrl: imagePath(appId, scene),
      wechatImageUrl: code.imageUrl,
      event: event.id,
    };
  });

  const list = operation(listQrCodes, async (ctx, { params }) => {
    const { appId } = params;
    requireAccount(commands.accounts, appId);
    const { campaigns: countsName } = await activeCollections(db, 'qr-attribution', {
      campaigns: ReadModels.campaignCounts,
    });
    const [codes, parts] = await Promise.all([
      campaigns.find({ appId }).sort({ createdAt: -1 }).toArray(),
      db
        .collection<Figures & { scene: string }>(countsName)
        .find({ appId } as never, { projection: { days: 0 } })
        .toArray(),
    ]);
    const figures = new Map<string, Figures>();
    for (const part of parts)
      figures.set(part.scene, addFigures(figures.get(part.scene) ?? noFigures(), part));
    const now = Date.now();
    ctx.body = {
      appId,
      qrcodes: codes.map((code) => ({
        scene: code.scene,
        ...(code.sceneId === undefined ? {} : { sceneId: code.sceneId }),
        kind: code.kind,
        ...(code.name === undefined ? {} : { name: code.name }),
        ...(code.tag === undefined ? {} : { tag: code.tag }),
        ticket: code.ticket,
        url: code.url,
        ...(code.expireSeconds === undefined ? {} : { expireSeconds: code.expireSeconds }),
        ...(code.expiresAt === undefined ? {} : { expiresAt: code.expiresAt }),
        expired: code.expiresAt !== undefined && code.expiresAt.getTime() <= now,
        createdAt: code.createdAt,
        imageUrl: imagePath(appId, code.scene),
        stats: figures.get(code.scene) ?? noFigures(),
      })),
    };
  });

  const image = operation(qrCodeImage, async (ctx, { params, query }) => {
    const { appId, scene } = params;
    const code = await campaigns.findOne({ appId, scene });
    if (!code) throw new HttpError(404, 'not_found', 'no QR code was created for this scene of the account');
    const file = `qrcode-${appId}-${scene.replace(/[^\w.-]+/g, '_')}.${query.format}`;
    ctx.type = query.format === 'png' ? 'image/png' : 'image/svg+xml';
    ctx.set('Content-Disposition', `${query.download ? 'attachment' : 'inline'}; filename="${file}"`);
    // Like every /api answer it is not stored (no-store); a ticket's URL never changes, so a client
    // that kept it anyway may ask with its ETag, and a new code for the scene has a new ETag.
    ctx.etag = `${code.ticket}-${query.format}-${query.size}`;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = await renderQrCode(code.url, query.format, query.size);
  });

  return [create, list, image];
}
