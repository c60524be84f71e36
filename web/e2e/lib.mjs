// Shared helpers of the browser tests: Debian's chromium through playwright-core (never a
// downloaded browser), the seeded server's URL from web/e2e/run.sh, API reads, screenshots.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE = process.env.PGFARM_E2E_URL ?? '';
export const ARTIFACTS = process.env.PGFARM_E2E_ARTIFACTS ?? join(ROOT, 'target', 'e2e-artifacts');
export const MACHINE = process.env.PGFARM_E2E_MACHINE ?? '';
export const ADMIN_TOKEN = process.env.PGFARM_E2E_ADMIN_TOKEN ?? '';

// The flags of ../shared/TOOLCHAIN.md section 4 (without the networking ones chromium floods the
// closed network).
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches chromium with a fresh user-data-dir; returns { context, close }. */
export async function launch(options = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'pgfarm-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  context.setDefaultTimeout(15000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A new page that records console errors, page errors and dialogs (none may happen). */
export async function newPage(context) {
  const page = await context.newPage();
  page.problems = [];
  page.dialogs = [];
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`);
  });
  page.on('dialog', async (dialog) => {
    page.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  return page;
}

/** Opens `path` and waits for `<section class="page" data-page=NAME>` without a loading state. */
export async function openPage(page, path, name) {
  if (!BASE) throw new Error('PGFARM_E2E_URL is not set: run the tests through web/e2e/run.sh');
  await page.goto(BASE + path);
  await page.locator(`section.page[data-page="${name}"]`).waitFor();
  await page.waitForFunction(() => !document.querySelector('.state-loading, [data-state="loading"]'),
    null, { timeout: 15000 }).catch(() => {});
  return page.locator(`section.page[data-page="${name}"]`);
}

/** GET an API path of the seeded server as JSON. */
export async function api(path) {
  const response = await fetch(BASE + path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Saves a full-page screenshot as target/e2e-artifacts/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** What a hostile payload would have created had it been parsed as HTML: scripts, `x` images,
 * svg with onload, javascript: links, elements with on* attributes. All zero when inert. */
export async function injectedElements(page) {
  return page.evaluate(() => ({
    scripts: [...document.querySelectorAll('script')].filter((s) => /alert/.test(s.textContent)).length,
    images: document.querySelectorAll('img[src="x"], img[onerror]').length,
    svgs: document.querySelectorAll('svg[onload]').length,
    jsLinks: [...document.querySelectorAll('a[href]')]
      .filter((a) => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')).length,
    handlers: [...document.querySelectorAll('*')]
      .filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).length,
  }));
}

/** `injectedElements` of an inert page. */
export const NOTHING_INJECTED = { scripts: 0, images: 0, svgs: 0, jsLinks: 0, handlers: 0 };

/** The seeded runs, newest first. */
export async function seededRuns() {
  const page = await api('/api/v1/runs?limit=200');
  return page.items;
}
