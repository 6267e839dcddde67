/** What a campaign's QR code achieved, as the attribution read model counts it. */
export const figureNames = ['scans', 'subscribes', 'returning', 'unsubscribes'] as const;
export type Figures = Record<(typeof figureNames)[number], number>;

export const noFigures = (): Figures => ({ scans: 0, subscribes: 0, returning: 0, unsubscribes: 0 });

export function addFigures(into: Figures, more: Partial<Figures>): Figures {
  return Object.fromEntries(figureNames.map((name) => [name, into[name] + (more[name] ?? 0)])) as Figures;
}
