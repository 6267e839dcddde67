import { aesKeyOf, encryptedReplyXml } from '@wxp/wechat-push';
import { readAnswer } from '../src/passive-reply-reader';
import { testAccount } from '../../../test/support/wechat-push';

const plain = testAccount({ encryptMode: 'plain', originalId: 'gh_account' });
const safe = testAccount({ encryptMode: 'safe', originalId: 'gh_account' });
const reply = (to = 'oUser', from = 'gh_account') =>
  `<xml><ToUserName><![CDATA[${to}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>`;
const sealed = (xml: string, account = safe) =>
  encryptedReplyXml(xml, account, aesKeyOf(account.encodingAESKey), '1700000000', '42');

describe('answers read as WeChat reads them', () => {
  it('success or nothing is no reply', () => {
    expect(readAnswer(safe, 'oUser', 'success')).toEqual({ kind: 'none' });
    expect(readAnswer(plain, 'oUser', '')).toEqual({ kind: 'none' });
  });

  it('a plain reply, and an encrypted one, are the message the user sees', () => {
    const message = { ToUserName: 'oUser', FromUserName: 'gh_account', MsgType: 'text', Content: 'hi' };
    expect(readAnswer(plain, 'oUser', reply())).toMatchObject({ kind: 'reply', message });
    expect(readAnswer(safe, 'oUser', sealed(reply()))).toMatchObject({ kind: 'reply', message });
  });

  it.each([
    ['text that is not XML', plain, 'hello', 'not a reply XML'],
    [
      'a plain reply in safe mode',
      safe,
      reply(),
      'an encrypted reply needs Encrypt, MsgSignature, TimeStamp and Nonce',
    ],
    [
      'a forged signature',
      safe,
      sealed(reply()).replace(
        /<MsgSignature><!\[CDATA\[[0-9a-f]{40}/,
        '<MsgSignature><![CDATA[' + '0'.repeat(40),
      ),
      'MsgSignature does not match',
    ],
    [
      "another account's key",
      safe,
      sealed(reply(), testAccount({ encryptMode: 'safe', token: safe.token })),
      'Encrypt does not decrypt to a message for this account',
    ],
    ['a reply to someone else', plain, reply('oOther'), 'the reply is not to the user who pushed'],
    [
      'a reply from another account',
      plain,
      reply('oUser', 'gh_other'),
      "the reply is not from the account's original id",
    ],
  ])('refuses %s', (_what, account, body, reason) => {
    expect(readAnswer(account, 'oUser', body)).toEqual({ kind: 'invalid', reason });
  });
});
