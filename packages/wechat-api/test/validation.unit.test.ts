import {
  WechatApiError,
  WechatTransportError,
  WechatValidationError,
  customMessageBody,
  isSafeToRepeat,
  isTokenError,
  isTransient,
  mayHaveBeenCarriedOut,
  qrCreateBody,
  retryWithBackoff,
  showQrCodeUrl,
  validateMenu,
} from '@wxp/wechat-api';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof WechatValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('QR code specs', () => {
  it('map to the four action names', () => {
    expect(qrCreateBody({ kind: 'temporary', scene: 42, expireSeconds: 604800 })).toEqual({
      expire_seconds: 604800,
      action_name: 'QR_SCENE',
      action_info: { scene: { scene_id: 42 } },
    });
    expect(qrCreateBody({ kind: 'temporary', scene: 'spring' })).toEqual({
      action_name: 'QR_STR_SCENE',
      action_info: { scene: { scene_str: 'spring' } },
    });
    expect(qrCreateBody({ kind: 'permanent', scene: 100000 }).action_name).toBe('QR_LIMIT_SCENE');
    expect(qrCreateBody({ kind: 'permanent', scene: 'x'.repeat(64) }).action_name).toBe('QR_LIMIT_STR_SCENE');
    expect(qrCreateBody({ kind: 'temporary', scene: 4294967295 }).action_info.scene).toEqual({
      scene_id: 4294967295,
    });
  });

  it.each([
    [{ kind: 'temporary', scene: 0 }, /1 to 4294967295/],
    [{ kind: 'temporary', scene: 4294967296 }, /1 to 4294967295/],
    [{ kind: 'temporary', scene: 1.5 }, /integer/],
    [{ kind: 'permanent', scene: 100001 }, /1 to 100000/],
    [{ kind: 'permanent', scene: '' }, /1 to 64 characters/],
    [{ kind: 'temporary', scene: 'x'.repeat(65) }, /1 to 64 characters/],
    [{ kind: 'temporary', scene: 1, expireSeconds: 2592001 }, /expireSeconds/],
    [{ kind: 'temporary', scene: 1, expireSeconds: 0 }, /expireSeconds/],
    [{ kind: 'permanent', scene: 1, expireSeconds: 60 }, /temporary codes only/],
    [{ kind: 'forever', scene: 1 }, /kind/],
  ])('refuses %j before any call', (spec, message) => {
    expect(problemsOf(() => qrCreateBody(spec as never)).join('; ')).toMatch(message);
  });

  it('URL-encode the ticket in the image address', () => {
    expect(showQrCodeUrl('gQH4/8+A==')).toBe(
      'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH4%2F8%2BA%3D%3D',
    );
  });
});

describe('menus', () => {
  const click = (name: string, key = 'K') => ({ type: 'click', name, key });

  it('accept what WeChat accepts', () => {
    expect(() =>
      validateMenu({
        button: [
          click('今日歌曲'),
          {
            name: '菜单',
            sub_button: [
              { type: 'view', name: '搜索', url: 'http://www.soso.com/' },
              click('赞一下我们', 'V1001_GOOD'),
            ],
          },
          {
            type: 'miniprogram',
            name: 'wxa',
            url: 'http://mp.weixin.qq.com',
            appid: 'wx286b93c14bbf93aa',
            pagepath: 'pages/lunar/index',
          },
        ],
      }),
    ).not.toThrow();
  });

  it('point at the offending button', () => {
    expect(problemsOf(() => validateMenu({ button: [] }))).toEqual(['button has 0 buttons; 1 to 3 allowed']);
    expect(
      problemsOf(() => validateMenu({ button: [click('a'), click('b'), click('c'), click('d')] })),
    ).toContain('button has 4 buttons; 1 to 3 allowed');
    expect(problemsOf(() => validateMenu({ button: [click('一二三四五六')] }))).toEqual([
      'button[0].name is 18 bytes; at most 16',
    ]);
    expect(
      problemsOf(() =>
        validateMenu({
          button: [{ name: 'm', sub_button: Array.from({ length: 6 }, (_, i) => click(`s${i}`)) }],
        }),
      ),
    ).toEqual(['button[0].sub_button has 6 buttons; at most 5']);
    expect(
      problemsOf(() => validateMenu({ button: [{ name: 'm', sub_button: [{ type: 'view', name: 'v' }] }] })),
    ).toEqual(['button[0].sub_button[0].url is required for type view']);
    expect(
      problemsOf(() => validateMenu({ button: [{ type: 'click', name: 'c', key: 'k'.repeat(129) }] })),
    ).toEqual(['button[0].key is 129 bytes; at most 128']);
    expect(problemsOf(() => validateMenu({ button: [{ type: 'teleport', name: 't' }] }))[0]).toMatch(
      /button\[0\]\.type must be one of/,
    );
  });
});

describe('errors and retries', () => {
  it('tell token errors and transient errors from the rest', () => {
    expect(isTokenError(new WechatApiError('user/info', 40001, 'invalid credential'))).toBe(true);
    expect(isTokenError(new WechatApiError('user/info', 42001, 'expired'))).toBe(true);
    expect(isTransient(new WechatApiError('user/info', -1, 'system busy'))).toBe(true);
    expect(isTransient(new WechatApiError('user/info', 45009, 'quota'))).toBe(true);
    expect(isTransient(new WechatTransportError('user/info', 'ECONNRESET'))).toBe(true);
    expect(isTransient(new WechatApiError('user/info', 40003, 'invalid openid'))).toBe(false);
  });

  it('repeat a call that must not happen twice only when it provably did nothing', () => {
    const busy = new WechatApiError('message/custom/send', -1, 'system busy');
    const lost = new WechatTransportError('message/custom/send', 'aborted');
    const neverSent = new WechatTransportError('message/custom/send', 'ECONNREFUSED', false);
    const quota = new WechatApiError('message/custom/send', 45011, 'minute quota');
    const refused = new WechatApiError('message/custom/send', 45015, 'out of time');
    expect([busy, lost, neverSent, quota, refused].map(isSafeToRepeat)).toEqual([
      false,
      false,
      true,
      true,
      false,
    ]);
    expect([busy, lost, neverSent, quota, refused].map(mayHaveBeenCarriedOut)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('retry transient failures with growing, jittered pauses until they pass', async () => {
    let calls = 0;
    const result = await retryWithBackoff(
      async () => {
        calls += 1;
        if (calls < 3) throw new WechatApiError('x', -1, 'busy');
        return 'ok';
      },
      isTransient,
      { deadlineMs: 5000, baseDelayMs: 5, maxDelayMs: 20 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('give up at once on permanent errors and at the deadline on transient ones', async () => {
    let calls = 0;
    await expect(
      retryWithBackoff(async () => {
        calls += 1;
        throw new WechatApiError('x', 40003, 'invalid openid');
      }, isTransient),
    ).rejects.toThrow('40003');
    expect(calls).toBe(1);
    // On a fake clock: the tries and their spacing are the policy's, whatever the machine's speed.
    jest.useFakeTimers();
    try {
      const started = Date.now();
      const triedAt: number[] = [];
      const outcome = retryWithBackoff(
        () => {
          triedAt.push(Date.now() - started);
          return Promise.reject(new WechatApiError('x', -1, 'busy'));
        },
        isTransient,
        { deadlineMs: 300, baseDelayMs: 50, maxDelayMs: 100 },
        () => 1,
      );
      const settled = expect(outcome).rejects.toThrow('-1');
      await jest.advanceTimersByTimeAsync(10_000);
      await settled;
      // Waits of 50, 100 and 100 ms; a fourth wait would end past the 300 ms deadline.
      expect(triedAt).toEqual([0, 50, 150, 250]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('customer-service message bodies', () => {
  it('always go to the user named by the caller, whatever the message carries', () => {
    const message = { msgtype: 'text', text: { content: 'hi' }, touser: 'o-someone-else' };
    expect(customMessageBody('o-user', message)).toEqual({
      msgtype: 'text',
      text: { content: 'hi' },
      touser: 'o-user',
    });
  });

  it('need the body their msgtype names as a field of their own', () => {
    for (const msgtype of ['constructor', 'toString', '__proto__', 'touser', 'msgtype', 'image']) {
      expect(problemsOf(() => customMessageBody('o-user', { msgtype, text: { content: 'x' } }))).toHaveLength(
        1,
      );
    }
  });
});
