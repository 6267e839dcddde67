import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, uniqueName } from '../../../test/support/infrastructure';
import { startCampaignStack, type CampaignStack } from '../../../test/support/running-campaign-stack';
import { testAccount } from '../../../test/support/wechat-push';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureChromium } = require('../../../scripts/ensure-chromium.cjs') as { ensureChromium(): string };

const outputDir = join(__dirname, '..', '..', '..', 'test-output');
let stack: CampaignStack;
let browser: Browser;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  const executablePath = ensureChromium();
  // The page under test is the current source, bundled as `npm run build` bundles it.
  const build = spawnSync(process.execPath, [join(__dirname, '..', 'dashboard', 'build.cjs')], {
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`dashboard build failed: ${build.stderr}`);
  // A passive account: the reply a click gets comes back in the gateway's answer, which the
  // emulator reports, so the test sees what the user would.
  stack = await startCampaignStack({ account: testAccount({ replyChannel: 'passive' }) });
  browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('request', (request) => requested.push(request.url()));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const figure = (name: string) => page.getByTestId(`${name}-total`);

describe('the campaign dashboard in Chromium', () => {
  it('refuses a wrong token', async () => {
    await page.goto(stack.adminUrl);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That token is not valid.' }).waitFor();
  });

  it('creates a QR code through the form and counts a follow and a scan live', async () => {
    await page.getByLabel('Admin token').fill(stack.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No QR codes yet').waitFor();

    const scene = String(Math.floor(Math.random() * 1_000_000_000) + 1);
    await page.getByLabel('Campaign name').fill('Autumn fair');
    await page.getByLabel('Scene').fill(scene);
    await page.getByLabel('Kind').selectOption('temporary');
    await page.getByLabel('Valid for (days)').fill('7');
    await page.getByRole('button', { name: 'Create QR code' }).click();

    await page.getByTestId(`campaign-${scene}`).waitFor();
    const detail = page.getByRole('region', { name: `Campaign ${scene}` });
    await detail.getByRole('heading', { name: 'Autumn fair' }).waitFor();
    // The code's image arrived and decoded (the test's own types know no DOM, hence the text).
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-testid="qr-image"]')].some((img) => img.complete && img.naturalWidth > 0)`,
      undefined,
      { timeout: 10_000 },
    );
    await expectText(figure('scans'), '0');
    await expectText(figure('follows'), '0');
    expect(await detail.getByTestId('download-png').getAttribute('download')).toBe(`qrcode-${scene}.png`);

    const code = (await stack.emulator.state(stack.account.appId)).qrcodes.find(
      (q) => q.sceneId === Number(scene),
    );
    expect(code).toBeDefined();
    const user = uniqueName('visitor');
    expect((await stack.simulate(user, { action: 'scan', ticket: code?.ticket })).delivered).toBe(true);
    await expectText(figure('follows'), '1');
    await expectText(figure('scans'), '0');

    expect((await stack.simulate(user, { action: 'scan', ticket: code?.ticket })).delivered).toBe(true);
    await expectText(figure('scans'), '1');
    const series = JSON.parse((await page.getByTestId('campaign-chart').getAttribute('data-series')) ?? '{}');
    expect(series).toMatchObject({ scans: [1], follows: [1], unfollows: [0] });
    expect(await page.locator('canvas').count()).toBe(1);
    // The funnel: the follow through the code was a scan too, then came the follower's own scan.
    const funnel = detail.getByTestId('funnel-chart');
    await eventually(
      async () =>
        expect(JSON.parse((await funnel.getAttribute('data-series')) ?? '[]')).toEqual([
          { label: 'Scans', value: 2 },
          { label: 'Follows', value: 1 },
          { label: 'Engaged within 24 h', value: 0 },
          { label: 'Left within 7 days', value: 0 },
          { label: 'Left within 30 days', value: 0 },
        ]),
      15_000,
    );

    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, 'dashboard.png'), fullPage: true });
  });

  const menuKey = `FAIR_${Math.floor(Math.random() * 1_000_000)}`;
  const replyText = 'See you at the autumn fair: hall 3, from 10:00 to 18:00.';
  const siteUrl = 'https://example.com/autumn-fair';
  const clicker = uniqueName('clicker');

  it('edits the reply to a menu key through the form, showing the refusal and then the rule in effect', async () => {
    await page.getByRole('link', { name: 'Reply rules' }).click();
    const form = page.getByRole('form', { name: 'Reply rules' });
    await form.getByRole('button', { name: 'Add menu reply' }).click();
    const rule = form.getByRole('group', { name: 'Menu reply 1', exact: true });
    await rule.getByLabel('Menu key').fill(menuKey);
    await rule.getByLabel('Reply kind').selectOption('text');
    // Short enough for any input, over WeChat's 2,048 bytes: only the API can tell.
    await rule.getByLabel('Text', { exact: true }).fill('好'.repeat(700));
    await form.getByRole('button', { name: 'Save reply rules' }).click();
    await form.getByRole('alert').filter({ hasText: 'is over 2048 bytes' }).waitFor();
    expect((await adminGet<{ menu: object }>('replies')).menu).toEqual({});

    await rule.getByLabel('Text', { exact: true }).fill(replyText);
    await form.getByRole('button', { name: 'Add welcome reply' }).click();
    const welcome = form.getByRole('group', { name: 'Welcome reply 1', exact: true });
    await welcome.getByLabel('QR scene, or default').fill('default');
    await welcome.getByLabel('Reply kind').selectOption('news');
    await welcome.getByLabel('Title', { exact: true }).fill('Welcome');
    await welcome.getByLabel('Link').fill(siteUrl);
    const put = page.waitForResponse(
      (response) => response.url().endsWith('/replies') && response.request().method() === 'PUT',
    );
    await form.getByRole('button', { name: 'Save reply rules' }).click();
    expect((await put).status()).toBe(202);
    await form
      .getByTestId('replies-status')
      .filter({ hasText: 'Saved and in effect' })
      .waitFor({ timeout: 20_000 });
    expect(await form.getByRole('alert').count()).toBe(0);
    expect(await adminGet('replies')).toMatchObject({
      menu: { [menuKey]: { msgtype: 'text', text: { content: replyText } } },
      welcome: { default: { msgtype: 'news', news: { articles: [{ title: 'Welcome', url: siteUrl }] } } },
    });

    // What was saved is what the page shows after a reload.
    await page.reload();
    await page.getByRole('group', { name: 'Menu reply 1', exact: true }).getByLabel('Menu key').waitFor();
    expect(await page.getByLabel('Menu key').inputValue()).toBe(menuKey);
    await page.screenshot({ path: join(outputDir, 'dashboard-replies.png'), fullPage: true });
  });

  it('publishes a menu with that key through the form, and a click on it gets the reply', async () => {
    await page.getByRole('link', { name: 'Menu', exact: true }).click();
    const published = page.getByTestId('published-menu');
    await published.getByText('No menu is published.').waitFor();
    const editor = page.getByRole('form', { name: 'Menu editor' });

    const first = editor.getByRole('group', { name: 'Button 1', exact: true });
    await first.getByLabel('Name').fill('Fair');
    await first.getByLabel('Action').selectOption('click');
    await first.getByLabel('Key').fill(menuKey);
    await editor.getByRole('button', { name: 'Add a button' }).click();
    const second = editor.getByRole('group', { name: 'Button 2', exact: true });
    await second.getByLabel('Name').fill('More');
    await second.getByLabel('Action').selectOption('submenu');
    await second.getByRole('button', { name: 'Add a sub-button to button 2' }).click();
    const link = editor.getByRole('group', { name: 'Sub-button 1 of button 2', exact: true });
    await link.getByLabel('Name').fill('Website');
    await link.getByLabel('Action').selectOption('view');

    // The link has no URL yet: the API names the field it refuses.
    await editor.getByRole('button', { name: 'Publish menu' }).click();
    await editor
      .getByRole('alert')
      .filter({ hasText: 'button[1].sub_button[0].url is required for type view' })
      .waitFor();
    expect((await stack.emulator.state(stack.account.appId)).menu).toBeFalsy();

    await link.getByLabel('Web page URL').fill(siteUrl);
    await editor.getByRole('button', { name: 'Publish menu' }).click();
    await editor.getByTestId('menu-status').filter({ hasText: 'Published' }).waitFor();
    await published.getByText(`click · ${menuKey}`).waitFor();
    await published.getByText(`view · ${siteUrl}`).waitFor();
    expect((await stack.emulator.state(stack.account.appId)).menu).toMatchObject({
      button: [
        { type: 'click', name: 'Fair', key: menuKey },
        { name: 'More', sub_button: [{ type: 'view', name: 'Website', url: siteUrl }] },
      ],
    });
    await page.screenshot({ path: join(outputDir, 'dashboard-menu.png'), fullPage: true });

    const follow = await stack.simulate(clicker, { action: 'follow' });
    expect(follow.reply).toMatchObject({ MsgType: 'news' });
    const click = await stack.simulate(clicker, { action: 'click', key: menuKey });
    expect(click.delivered).toBe(true);
    expect(click.reply).toMatchObject({ MsgType: 'text', Content: replyText });
  });

  it('charts follows and unfollows per day beside the campaigns', async () => {
    await page.getByRole('link', { name: 'QR campaigns' }).click();
    const followers = page.getByRole('region', { name: 'Followers' });
    // Two follows so far (the scan of the campaign test and the clicker), then one more and an unfollow.
    await expectText(followers.getByTestId('follower-follows-total'), '2');
    const user = uniqueName('passer-by');
    expect((await stack.simulate(user, { action: 'follow' })).delivered).toBe(true);
    await expectText(followers.getByTestId('follower-follows-total'), '3');
    expect((await stack.simulate(user, { action: 'unfollow' })).delivered).toBe(true);
    await expectText(followers.getByTestId('follower-unfollows-total'), '1');
    await expectText(followers.getByTestId('followers-now'), '2');

    const chart = followers.getByTestId('follower-chart');
    await chart.getByRole('img').waitFor();
    const series = JSON.parse((await chart.getAttribute('data-series')) ?? '{}') as {
      follows: number[];
      unfollows: number[];
    };
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect({ follows: sum(series.follows), unfollows: sum(series.unfollows) }).toEqual({
      follows: 3,
      unfollows: 1,
    });
    // Drawn by the page: one bar per series and day, and still a single canvas (the campaign's).
    expect(await chart.locator('rect').count()).toBe(2 * series.follows.length);
    expect(await page.locator('canvas').count()).toBe(1);
    await page.screenshot({ path: join(outputDir, 'dashboard-followers.png'), fullPage: true });
  });

  it('deletes the menu through the page', async () => {
    await page.getByRole('link', { name: 'Menu', exact: true }).click();
    const published = page.getByTestId('published-menu');
    await published.getByText(`click · ${menuKey}`).waitFor();
    await page.getByRole('button', { name: 'Delete menu' }).click();
    await page.getByRole('button', { name: 'Yes, delete the menu' }).click();
    await page.getByTestId('menu-status').filter({ hasText: 'Deleted' }).waitFor();
    await published.getByText('No menu is published.').waitFor();
    expect((await stack.emulator.state(stack.account.appId)).menu).toBeFalsy();
    const click = await stack.emulator.control('simulate', {
      appId: stack.account.appId,
      user: clicker,
      action: 'click',
      key: menuKey,
    });
    expect(click).toMatchObject({
      status: 409,
      body: { message: `the menu has no button with key "${menuKey}"` },
    });
  });

  it('loads nothing from anywhere but the admin API', async () => {
    // A page of its own, signed in and showing a campaign: every request it makes is recorded here.
    const own = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const seen: string[] = [];
    own.on('request', (request) => seen.push(request.url()));
    try {
      await own.goto(stack.adminUrl);
      await own.getByLabel('Admin token').fill(stack.adminToken);
      await own.getByRole('button', { name: 'Sign in' }).click();
      await own.locator('[data-testid^="campaign-"]').first().or(own.getByText('No QR codes yet')).waitFor();
      // The page polls every second, so the network is never idle for long: a few rounds of polls
      // are watched instead.
      await own.waitForTimeout(3000);
    } finally {
      await own.close();
    }
    const fromOrigin = seen.filter((url) => url.startsWith(`${stack.adminUrl}/`));
    // The page, its script and its API calls at least; nothing from elsewhere, in this page or the earlier tests'.
    expect(fromOrigin.some((url) => url.includes('/api/'))).toBe(true);
    expect(fromOrigin.length).toBeGreaterThanOrEqual(3);
    const foreign = [...requested, ...seen].filter(
      (url) => !url.startsWith(`${stack.adminUrl}/`) && url !== stack.adminUrl && !url.startsWith('blob:'),
    );
    expect(foreign).toEqual([]);
  });
});

async function adminGet<T = unknown>(path: string): Promise<T> {
  const response = await fetch(`${stack.adminUrl}/api/apps/${stack.account.appId}/${path}`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function expectText(locator: ReturnType<Page['getByTestId']>, text: string): Promise<void> {
  // The dashboard polls every second; a projection takes a moment more.
  await locator.filter({ hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: 15_000 });
}
