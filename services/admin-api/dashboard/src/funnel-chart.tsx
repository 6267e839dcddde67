import type { AdminClient, CampaignFunnel } from './admin-client';
import { usePolling } from './use-polling';

const WIDTH = 600;
const ROW = 34;
const LABEL = 170;
const VALUE = 110;

interface Stage {
  label: string;
  value: number;
  kind: 'scans' | 'follows' | 'lost';
  /** What the share beside the bar is of. */
  of?: { name: string; value: number };
}

/** The funnel's stages over all its cohort days: each later stage is a part of the follows. */
export function stagesOf(funnel: CampaignFunnel): Stage[] {
  const follows = funnel.newFollows + funnel.returningFollows;
  const ofScans = { name: 'scans', value: funnel.scans };
  const ofFollows = { name: 'follows', value: follows };
  return [
    { label: 'Scans', value: funnel.scans, kind: 'scans' },
    { label: 'Follows', value: follows, kind: 'follows', of: ofScans },
    { label: 'Engaged within 24 h', value: funnel.engagedWithin24h, kind: 'follows', of: ofFollows },
    { label: 'Left within 7 days', value: funnel.unfollowedWithin7d, kind: 'lost', of: ofFollows },
    { label: 'Left within 30 days', value: funnel.unfollowedWithin30d, kind: 'lost', of: ofFollows },
  ];
}

const percentOf = (stage: Stage) =>
  stage.of && stage.of.value > 0 ? Math.round((100 * stage.value) / stage.of.value) : undefined;

/** One bar per stage, as wide as its share of the widest, drawn as SVG by the page itself. */
export function FunnelBars(props: { funnel: CampaignFunnel }) {
  const stages = stagesOf(props.funnel);
  const widest = Math.max(1, ...stages.map((s) => s.value));
  const room = WIDTH - LABEL - VALUE;
  const height = ROW * stages.length;
  return (
    <div
      class="svg-chart funnel"
      data-testid="funnel-chart"
      data-series={JSON.stringify(stages.map((s) => ({ label: s.label, value: s.value })))}
    >
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-label={`Funnel of scene ${props.funnel.scene}: ${stages.map((s) => `${s.label} ${s.value}`).join(', ')}`}
      >
        {stages.map((stage, i) => {
          const width = (stage.value / widest) * room;
          const percent = percentOf(stage);
          const y = i * ROW;
          return (
            <g>
              <text class="axis" x={LABEL - 8} y={y + ROW / 2 + 4} text-anchor="end">
                {stage.label}
              </text>
              <rect class={stage.kind} x={LABEL} y={y + 5} width={width} height={ROW - 10} rx={3}>
                <title>{`${stage.label}: ${stage.value}${percent === undefined ? '' : `, ${percent} % of ${stage.of?.name}`}`}</title>
              </rect>
              <text class="axis" x={LABEL + width + 6} y={y + ROW / 2 + 4}>
                {percent === undefined ? stage.value : `${stage.value} (${percent} %)`}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** A campaign's funnel beside its daily figures: every figure counts on the day of its scan or follow. */
export function FunnelPanel(props: { client: AdminClient; appId: string; scene: string }) {
  const { value: funnel, error } = usePolling(`funnel/${props.appId}/${props.scene}`, () =>
    props.client.funnel(props.appId, props.scene),
  );
  return (
    <div aria-label={`Funnel of scene ${props.scene}`}>
      <h3>Funnel</h3>
      {error && <p class="error">{error}</p>}
      {funnel && funnel.from === undefined && <p class="meta">No scans yet.</p>}
      {funnel?.from !== undefined && (
        <>
          <p class="meta">
            Cohorts of {funnel.from} to {funnel.to} (China time). Scans include the follows through the code;
            follows {funnel.newFollows} new, {funnel.returningFollows} returning; engagement is a menu tap or
            a message.
          </p>
          <FunnelBars funnel={funnel} />
        </>
      )}
    </div>
  );
}
