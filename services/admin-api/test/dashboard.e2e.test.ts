import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { uniqueName } from '../../../test/support/infrastructure';
import { startCampaignStack, type CampaignStack } from '../../../test/support/running-campaign-stack';

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
  stack = await startCampaignStack();
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

    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, 'dashboard.png'), fullPage: true });
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
      await own.waitForLoadState('networkidle');
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

async function expectText(locator: ReturnType<Page['getByTestId']>, text: string): Promise<void> {
  // The dashboard polls every second; a projection takes a moment more.
  await locator.filter({ hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: 15_000 });
}
