import { AuthThrottle, addressKey } from '../src/auth-throttle';

describe('the authentication throttle', () => {
  const options = { maxFailures: 3, windowMs: 60_000, maxAddresses: 100 };

  it('makes an address wait once it failed the allowed number of times, and only that address', () => {
    const throttle = new AuthThrottle(options);
    for (let i = 0; i < 2; i += 1) throttle.recordFailure('10.0.0.1');
    expect(throttle.waitSeconds('10.0.0.1')).toBe(0);
    throttle.recordFailure('10.0.0.1');
    expect(throttle.waitSeconds('10.0.0.1')).toBeGreaterThan(0);
    expect(throttle.waitSeconds('10.0.0.1')).toBeLessThanOrEqual(60);
    expect(throttle.waitSeconds('10.0.0.2')).toBe(0);
  });

  it('forgets an address’s failures once it authenticates', () => {
    const throttle = new AuthThrottle(options);
    for (let i = 0; i < 2; i += 1) throttle.recordFailure('10.0.0.1');
    throttle.forgive('10.0.0.1');
    for (let i = 0; i < 2; i += 1) throttle.recordFailure('10.0.0.1');
    expect(throttle.waitSeconds('10.0.0.1')).toBe(0);
  });

  it('remembers no more addresses than its cap, however many fail', () => {
    const throttle = new AuthThrottle({ ...options, maxAddresses: 50 });
    for (let i = 0; i < 5_000; i += 1) throttle.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(throttle.trackedAddresses).toBe(50);
  });

  it('counts an IPv6 /64 as one address, and an IPv4-mapped address as the IPv4 one', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
    const throttle = new AuthThrottle(options);
    for (let i = 1; i <= 3; i += 1) throttle.recordFailure(`2001:db8:1:2::${i}`);
    expect(throttle.waitSeconds('2001:db8:1:2:ffff::9')).toBeGreaterThan(0);
  });
});
