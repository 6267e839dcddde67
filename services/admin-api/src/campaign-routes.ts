import { ReadModels } from '@wxp/contracts';
import { activeCollections } from '@wxp/mongo';
import type { Db } from 'mongodb';
import { campaignStats } from './api-operations';
import { addFigures, noFigures, type Figures } from './campaign-figures';
import { operation, type BoundOperation } from './operation';

interface CampaignCountsView extends Figures {
  appId: string;
  scene: string;
  days: Record<string, Figures>;
}

const DAY_MS = 86_400_000;

/** Every calendar day from `first` to `last` (YYYY-MM-DD), so a chart shows quiet days as zeros. */
export function daysBetween(first: string, last: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += DAY_MS)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export function campaignOperations(db: Db): BoundOperation[] {
  /** What one QR scene achieved: scans, new and returning followers, and their unfollows, per day. */
  const stats = operation(campaignStats, async (ctx, { params }) => {
    const { appId, scene } = params;
    // The attribution's collection as its read-model pointer names it now (a replay moves it).
    const { campaigns } = await activeCollections(db, 'qr-attribution', {
      campaigns: ReadModels.campaignCounts,
    });
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
      ...total,
      days: days.map((day) => ({ day, ...(byDay.get(day) ?? noFigures()) })),
    };
  });
  return [stats];
}
