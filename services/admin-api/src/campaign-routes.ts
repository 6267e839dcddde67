import Router from '@koa/router';
import { activeCollections } from '@wxp/mongo';
import type { Db } from 'mongodb';

const measures = ['scans', 'subscribes', 'returning', 'unsubscribes'] as const;
type Figures = Record<(typeof measures)[number], number>;

interface CampaignCountsView extends Figures {
  appId: string;
  scene: string;
  days: Record<string, Figures>;
}

const zero = (): Figures => ({ scans: 0, subscribes: 0, returning: 0, unsubscribes: 0 });

function add(into: Figures, more: Figures): Figures {
  return Object.fromEntries(measures.map((m) => [m, into[m] + (more[m] ?? 0)])) as Figures;
}

export function campaignRoutes(db: Db, countsCollection: string): Router {
  const router = new Router();

  /** What one QR scene achieved: scans, new and returning followers, and their unfollows, per day. */
  router.get('/apps/:appId/campaigns/:scene/stats', async (ctx) => {
    const { appId = '', scene = '' } = ctx.params;
    // The attribution's collection as its read-model pointer names it now (a replay moves it).
    const { campaigns } = await activeCollections(db, 'qr-attribution', { campaigns: countsCollection });
    const parts = await db
      .collection<CampaignCountsView>(campaigns)
      .find({ appId, scene } as never)
      .toArray();
    let total = zero();
    const days = new Map<string, Figures>();
    for (const part of parts) {
      total = add(total, part);
      for (const [day, figures] of Object.entries(part.days))
        days.set(day, add(days.get(day) ?? zero(), figures));
    }
    ctx.body = {
      scene,
      ...total,
      days: [...days.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, figures]) => ({ day, ...figures })),
    };
  });
  return router;
}
