import { AccountsError, erasureGraceSecondsOf, parseAccounts } from '@wxp/accounts';

const account = {
  appId: 'wx1234567890abcdef',
  appSecret: 'secret',
  token: 'token123',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  encryptMode: 'safe',
};

describe('accounts file', () => {
  it('reads accounts and defaults the body format to XML', () => {
    const accounts = parseAccounts(JSON.stringify([account, { ...account, appId: 'wx2', format: 'json' }]));
    expect(accounts.get('wx1234567890abcdef')?.format).toBe('xml');
    expect(accounts.get('wx2')?.format).toBe('json');
  });

  it('reads an erasure grace period, 0 when the account sets none', () => {
    const accounts = parseAccounts(
      JSON.stringify([account, { ...account, appId: 'wx2', erasureGraceSeconds: 86400 }]),
    );
    expect(erasureGraceSecondsOf(accounts.get('wx1234567890abcdef'))).toBe(0);
    expect(erasureGraceSecondsOf(accounts.get('wx2'))).toBe(86400);
    expect(erasureGraceSecondsOf(undefined)).toBe(0);
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['an empty list', '[]', /lists no account/],
    ['a bad mode', JSON.stringify([{ ...account, encryptMode: 'aes' }]), /encryptMode/],
    ['a short AES key', JSON.stringify([{ ...account, encodingAESKey: 'short' }]), /encodingAESKey/],
    ['an unknown field', JSON.stringify([{ ...account, secret: 'x' }]), /additional properties/],
    ['a repeated appId', JSON.stringify([account, account]), /listed twice/],
    [
      'a negative grace period',
      JSON.stringify([{ ...account, erasureGraceSeconds: -1 }]),
      /\/0\/erasureGraceSeconds must be >= 0/,
    ],
    [
      'a fractional grace period',
      JSON.stringify([{ ...account, erasureGraceSeconds: 1.5 }]),
      /\/0\/erasureGraceSeconds must be integer/,
    ],
    [
      'a grace period given as text',
      JSON.stringify([{ ...account, erasureGraceSeconds: '60' }]),
      /\/0\/erasureGraceSeconds must be integer/,
    ],
    [
      'a grace period over 30 days',
      JSON.stringify([{ ...account, erasureGraceSeconds: 30 * 24 * 3600 + 1 }]),
      /\/0\/erasureGraceSeconds must be <= 2592000/,
    ],
  ])('refuses %s with a message that says why', (_what, json, message) => {
    expect(() => parseAccounts(json, 'accounts.json')).toThrow(AccountsError);
    expect(() => parseAccounts(json, 'accounts.json')).toThrow(message);
  });

  it('never quotes the file, which holds the secrets, when it is not JSON', () => {
    const appSecret = 'Zq7SECRETvalue9';
    const broken = JSON.stringify([{ ...account, appSecret }]).replace(`"${appSecret}"`, appSecret);
    let message = '';
    try {
      parseAccounts(broken, 'accounts.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^accounts\.json: not valid JSON/);
    expect(message).not.toContain('SECRET');
  });
});
