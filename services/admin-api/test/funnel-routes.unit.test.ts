import { HttpError } from '@wxp/service-runtime';
import { MAX_FUNNEL_DAYS } from '../src/api-schemas';
import { funnelRange } from '../src/funnel-routes';

const counted = ['2025-01-10', '2026-02-20', '2026-03-04'];

function refusal(asked: { from?: string; to?: string }): string {
  try {
    funnelRange(asked, counted);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(asked)} was not refused`);
}

describe('the days a funnel answer covers', () => {
  it('are those asked for, quiet or not', () => {
    expect(funnelRange({ from: '2026-03-01', to: '2026-03-05' }, counted)).toEqual({
      from: '2026-03-01',
      to: '2026-03-05',
    });
    expect(funnelRange({ from: '2027-01-01', to: '2027-01-01' }, [])).toEqual({
      from: '2027-01-01',
      to: '2027-01-01',
    });
  });

  it('run to the last counted day, and back at most a year, where an end is left out', () => {
    expect(funnelRange({}, counted)).toEqual({ from: '2025-03-04', to: '2026-03-04' });
    expect(funnelRange({}, ['2026-03-04'])).toEqual({ from: '2026-03-04', to: '2026-03-04' });
    expect(funnelRange({ from: '2026-02-01' }, counted)).toEqual({ from: '2026-02-01', to: '2026-03-04' });
    expect(funnelRange({ from: '2024-12-01' }, counted)).toEqual({ from: '2024-12-01', to: '2025-12-01' });
    expect(funnelRange({ from: '2026-06-01' }, counted)).toEqual({ from: '2026-06-01', to: '2026-06-01' });
    expect(funnelRange({ to: '2026-02-28' }, ['2026-02-20'])).toEqual({
      from: '2026-02-20',
      to: '2026-02-28',
    });
    expect(funnelRange({ to: '2026-01-01' }, ['2026-02-20'])).toEqual({
      from: '2026-01-01',
      to: '2026-01-01',
    });
    expect(funnelRange({}, [])).toBeUndefined();
  });

  it(`are at most ${MAX_FUNNEL_DAYS}, in order, and days of the calendar`, () => {
    expect(funnelRange({ from: '2024-01-01', to: '2024-12-31' }, counted)).toEqual({
      from: '2024-01-01',
      to: '2024-12-31',
    });
    expect(refusal({ from: '2024-01-01', to: '2025-01-01' })).toContain(`at most ${MAX_FUNNEL_DAYS} days`);
    expect(refusal({ from: '2026-03-05', to: '2026-03-04' })).toBe('query.from must not be after query.to');
    expect(refusal({ from: '2026-02-30' })).toBe('query.from is not a day of the calendar');
    expect(refusal({ to: '2026-13-01' })).toBe('query.to is not a day of the calendar');
    // A range running past year 9999 would be written with a sign and six digits.
    expect(refusal({ from: '9999-12-31' })).toBe('query.from must be a day from 2000-01-01 to 2099-12-31');
    expect(refusal({ to: '1999-12-31' })).toBe('query.to must be a day from 2000-01-01 to 2099-12-31');
  });
});
