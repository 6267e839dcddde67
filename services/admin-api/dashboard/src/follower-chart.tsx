import type { AdminClient, FollowerStats } from './admin-client';
import { usePolling } from './use-polling';

const WIDTH = 600;
const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 28, left: 32 };
/** Beyond this many days the bars would be slivers; the latest days are the ones watched. */
const MAX_DAYS = 30;

/** A y-axis top that is a round number, so the gridline labels read well. */
function niceTop(max: number): number {
  if (max <= 4) return Math.max(max, 1);
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
}

/** Follows and unfollows per day, side by side, drawn as SVG by the page itself. */
export function FollowerBars(props: { stats: FollowerStats }) {
  const days = props.stats.days.slice(-MAX_DAYS);
  const top = niceTop(Math.max(0, ...days.flatMap((d) => [d.follows, d.unfollows])));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(days.length, 1);
  const bar = Math.min(24, (slot * 0.8) / 2);
  const y = (value: number) => PAD.top + plotHeight - (value / top) * plotHeight;
  // Every label would overlap on a month of days; about eight are enough to read the axis.
  const labelEvery = Math.ceil(days.length / 8);
  const series = {
    days: days.map((d) => d.day),
    follows: days.map((d) => d.follows),
    unfollows: days.map((d) => d.unfollows),
  };
  return (
    <div class="svg-chart" data-testid="follower-chart" data-series={JSON.stringify(series)}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Follows and unfollows per day, ${days.length} days`}
      >
        {[0, top / 2, top].map((tick) => (
          <g>
            <line class="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text class="axis" x={PAD.left - 6} y={y(tick) + 4} text-anchor="end">
              {Number.isInteger(tick) ? tick : ''}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const middle = PAD.left + slot * i + slot / 2;
          return (
            <g>
              <rect
                class="follows"
                x={middle - bar}
                y={y(d.follows)}
                width={bar}
                height={y(0) - y(d.follows)}
              >
                <title>{`${d.day}: ${d.follows} follows`}</title>
              </rect>
              <rect
                class="unfollows"
                x={middle}
                y={y(d.unfollows)}
                width={bar}
                height={y(0) - y(d.unfollows)}
              >
                <title>{`${d.day}: ${d.unfollows} unfollows`}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text class="axis" x={middle} y={HEIGHT - 8} text-anchor="middle">
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <div class="legend meta">
        <span class="swatch follows" /> follows <span class="swatch unfollows" /> unfollows
      </div>
    </div>
  );
}

export function FollowerPanel(props: { client: AdminClient; appId: string }) {
  const { value: stats, error } = usePolling(`followers/${props.appId}`, () =>
    props.client.followerStats(props.appId),
  );
  return (
    <section class="panel" aria-label="Followers">
      <h2>Followers</h2>
      <div class="figures">
        <div>
          <strong data-testid="followers-now">{stats?.followers ?? '–'}</strong>following now
        </div>
        <div>
          <strong data-testid="follower-follows-total">{stats?.follows ?? '–'}</strong>follows
        </div>
        <div>
          <strong data-testid="follower-unfollows-total">{stats?.unfollows ?? '–'}</strong>unfollows
        </div>
      </div>
      {error && <p class="error">{error}</p>}
      {stats && stats.days.length === 0 && <p class="meta">No follows yet.</p>}
      {stats && stats.days.length > 0 && <FollowerBars stats={stats} />}
    </section>
  );
}
