import { funnelMeasures, noFunnelFigures, ReadModels, type FunnelFigures } from '@wxp/contracts';
import { HttpError } from '@wxp/service-runtime';
import type { Db } from 'mongodb';
import { campaignFunnel } from './api-operations';
import { MAX_FUNNEL_DAYS } from './api-schemas';
import { attributionReadModel, daysBetween } from './campaign-routes';
import { operation, type BoundOperation } from './operation';

interface CampaignFunnelView {
  appId: string;
  scene: string;
  days: Record<string, FunnelFigures>;
}

const DAY_MS = 86_400_000;

function addFunnelFigures(into: FunnelFigures, more: Partial<FunnelFigures>): FunnelFigures {
  return Object.fromEntries(
    funnelMeasures.map((measure) => [measure, into[measure] + (more[measure] ?? 0)]),
  ) as FunnelFigures;
}

const plusDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** Days a funnel may be asked for: beyond them a range's end would not be written as YYYY-MM-DD. */
const FIRST_DAY = '2000-01-01';
const LAST_DAY = '2099-12-31';

/** A day the pattern lets through may still be no day of the calendar (2026-02-30). */
function calendarDay(field: string, day: string | undefined): string | undefined {
  if (day === undefined) return undefined;
  const time = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== day)
    throw new HttpError(400, 'invalid_request', `${field} is not a day of the calendar`);
  if (day < FIRST_DAY || day > LAST_DAY)
    throw new HttpError(400, 'invalid_request', `${field} must be a day from ${FIRST_DAY} to ${LAST_DAY}`);
  return day;
}

/**
 * The days an answer covers: those asked for, and where one end is left out, the figures' own
 * first or last day, never more than MAX_FUNNEL_DAYS. Undefined when nothing is asked and nothing
 * is counted.
 */
export function funnelRange(
  asked: { from?: string; to?: string },
  counted: readonly string[],
): { from: string; to: string } | undefined {
  const from = calendarDay('query.from', asked.from);
  const to = calendarDay('query.to', asked.to);
  const span = MAX_FUNNEL_DAYS - 1;
  const first = counted[0];
  const last = counted[counted.length - 1];
  if (from !== undefined && to !== undefined) {
    if (from > to) throw new HttpError(400, 'invalid_request', 'query.from must not be after query.to');
    if (plusDays(from, span) < to)
      throw new HttpError(
        400,
        'invalid_request',
        `query.from to query.to must cover at most ${MAX_FUNNEL_DAYS} days`,
      );
    return { from, to };
  }
  if (from !== undefined) {
    const end = last !== undefined && last > from ? last : from;
    const cap = plusDays(from, span);
    return { from, to: end < cap ? end : cap };
  }
  const end = to ?? last;
  if (end === undefined) return undefined;
  const start = first !== undefined && first < end ? first : end;
  const cap = plusDays(end, -span);
  return { from: start > cap ? start : cap, to: end };
}

export function funnelOperations(db: Db): BoundOperation[] {
  /** What became of one QR scene's scans and follows, per cohort day. */
  const funnel = operation(campaignFunnel, async (ctx, { params, query }) => {
    const { appId, scene } = params;
    const { collections, snapshot } = await attributionReadModel(db, query.snapshot);
    const funnels = collections.funnels;
    const [parts, code] = await Promise.all([
      // A snapshot built before the funnel existed has none: its funnel is empty.
      funnels === undefined
        ? []
        : db
            .collection<CampaignFunnelView>(funnels)
            .find({ appId, scene } as never)
            .toArray(),
      db.collection<{ name?: string }>(ReadModels.campaigns).findOne({ appId, scene } as never),
    ]);
    const byDay = new Map<string, FunnelFigures>();
    for (const part of parts)
      for (const [day, figures] of Object.entries(part.days))
        byDay.set(day, addFunnelFigures(byDay.get(day) ?? noFunnelFigures(), figures));
    const range = funnelRange(query, [...byDay.keys()].sort());
    const days = (range ? daysBetween(range.from, range.to) : []).map((day) => ({
      day,
      ...(byDay.get(day) ?? noFunnelFigures()),
    }));
    ctx.body = {
      appId,
      scene,
      ...(code?.name === undefined ? {} : { name: code.name }),
      ...(snapshot ? { snapshot } : {}),
      ...(range ?? {}),
      ...days.reduce(addFunnelFigures, noFunnelFigures()),
      days,
    };
  });
  return [funnel];
}
