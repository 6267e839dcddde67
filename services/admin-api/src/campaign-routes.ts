import { ReadModels } from '@wxp/contracts';
import { activeCollections, dropSnapshot, findSnapshot, listSnapshots } from '@wxp/mongo';
import { HttpError } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import { campaignStats, deleteSnapshot, listSnapshots as listSnapshotsOperation } from './api-operations';
import { addFigures, noFigures, type Figures } from './campaign-figures';
import { operation, type BoundOperation } from './operation';

interface CampaignCountsView extends Figures {
  appId: string;
  scene: string;
  days: Record<string, Figures>;
}

const DAY_MS = 86_400_000;

const attributionDefaults = {
  campaigns: ReadModels.campaignCounts,
  funnels: ReadModels.campaignFunnels,
};

/** Every calendar day from `first` to `last` (YYYY-MM-DD), so a chart shows quiet days as zeros. */
export function daysBetween(first: string, last: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += DAY_MS)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * The QR attribution's collections: the live ones as its read-model pointer names them now (a replay
 * moves them), or those of a snapshot of it (a 404 when there is no such snapshot).
 */
export async function attributionReadModel(
  db: Db,
  snapshotId: string | undefined,
): Promise<{
  collections: { campaigns: string; funnels?: string };
  snapshot?: { id: string; until: string };
}> {
  if (snapshotId === undefined)
    return { collections: await activeCollections(db, 'qr-attribution', attributionDefaults) };
  const snapshot = await findSnapshot(db, snapshotId);
  if (snapshot?.service !== 'qr-attribution')
    throw new HttpError(404, 'not_found', 'no such snapshot of the qr-attribution read model');
  const { campaigns, funnels } = snapshot.collections;
  if (campaigns === undefined)
    throw new HttpError(404, 'not_found', 'no such snapshot of the qr-attribution read model');
  return {
    // A snapshot built before the funnel existed has none.
    collections: { campaigns, ...(funnels === undefined ? {} : { funnels }) },
    snapshot: { id: snapshot._id, until: snapshot.until.toISOString() },
  };
}

export function campaignOperations(db: Db): BoundOperation[] {
  /** What one QR scene achieved: scans, new and returning followers, and their unfollows, per day. */
  const stats = operation(campaignStats, async (ctx, { params, query }) => {
    const { appId, scene } = params;
    const { collections, snapshot } = await attributionReadModel(db, query.snapshot);
    const campaigns = collections.campaigns;
    const [parts, code] = await Promise.all([
      db
        .collection<CampaignCountsView>(campaigns)
        .find({ appId, scene } as never)
        .toArray(),
      db.collection<{ name?: string }>(ReadModels.campaigns).findOne({ appId, scene } as never),
    ]);
    let total = noFigures();
    const byDay = new Map<string, Figures>();
    for (const part of parts) {
      total = addFigures(total, part);
      for (const [day, figures] of Object.entries(part.days))
        byDay.set(day, addFigures(byDay.get(day) ?? noFigures(), figures));
    }
    const known = [...byDay.keys()].sort();
    const days = known.length === 0 ? [] : daysBetween(known[0] as string, known[known.length - 1] as string);
    ctx.body = {
      appId,
      scene,
      ...(code?.name === undefined ? {} : { name: code.name }),
      ...(snapshot ? { snapshot } : {}),
      ...total,
      days: days.map((day) => ({ day, ...(byDay.get(day) ?? noFigures()) })),
    };
  });
  const snapshots = operation(listSnapshotsOperation, async (ctx) => {
    ctx.body = {
      snapshots: (await listSnapshots(db)).map((s) => ({
        id: s._id,
        service: s.service,
        until: s.until.toISOString(),
        builtAt: s.builtAt.toISOString(),
        events: s.events,
      })),
    };
  });

  const drop = operation(deleteSnapshot, async (ctx, { params }) => {
    if (!(await dropSnapshot(db, params.snapshotId)))
      throw new HttpError(404, 'not_found', 'no such snapshot');
    ctx.status = 204;
  });
  return [stats, snapshots, drop];
}
