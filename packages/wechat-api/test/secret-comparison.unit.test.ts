import { sameSecret } from '../src/secret-comparison';

describe('comparing secrets', () => {
  it('tells equal from different, whatever their lengths', () => {
    expect(sameSecret('an-access-token', 'an-access-token')).toBe(true);
    expect(sameSecret('an-access-token', 'an-access-tokeN')).toBe(false);
    expect(sameSecret('short', 'a much longer secret')).toBe(false);
    expect(sameSecret('', '')).toBe(true);
  });
});
