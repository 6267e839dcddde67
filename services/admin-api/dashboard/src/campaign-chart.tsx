import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
  type ChartData,
} from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import type { CampaignStats } from './admin-client';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** The series the chart draws: per day, scans, new followers (first-time and returning) and unfollows. */
export function seriesOf(stats: CampaignStats) {
  return {
    days: stats.days.map((d) => d.day),
    scans: stats.days.map((d) => d.scans),
    follows: stats.days.map((d) => d.subscribes + d.returning),
    unfollows: stats.days.map((d) => d.unsubscribes),
  };
}

/** Bars per day; the same Chart instance is updated in place so a poll does not restart it. */
export function CampaignChart({ stats }: { stats: CampaignStats }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'>>(undefined);
  const series = seriesOf(stats);

  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 250 },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
    return () => chart.current?.destroy();
  }, []);

  useEffect(() => {
    if (!chart.current) return;
    const data: ChartData<'bar'> = {
      labels: series.days,
      datasets: [
        { label: 'Scans', data: series.scans, backgroundColor: '#0969da' },
        { label: 'New followers', data: series.follows, backgroundColor: '#07c160' },
        { label: 'Unfollows', data: series.unfollows, backgroundColor: '#cf222e' },
      ],
    };
    chart.current.data = data;
    chart.current.update();
  }, [JSON.stringify(series)]);

  return (
    <div class="chart-box" data-testid="campaign-chart" data-series={JSON.stringify(series)}>
      <canvas
        ref={canvas}
        aria-label={`Scans, new followers and unfollows per day for scene ${stats.scene}`}
      />
    </div>
  );
}
