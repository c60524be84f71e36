// The offline viewer (/view) with the network disabled, the XSS bundle, the phone layout and
// keyboard navigation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import {
  launch, newPage, openPage, screenshot, injectedElements, NOTHING_INJECTED, ROOT, BASE,
} from './lib.mjs';

const sample = (name) => join(ROOT, 'testdata', 'bundles', name);

let browser;
before(async () => { browser = await launch(); });
after(async () => browser?.close());

/** Cuts the page off the network; returns the list of requests attempted afterwards. */
async function goOffline(page) {
  const attempted = [];
  page.on('request', (request) => {
    if (!/^(blob|data):/.test(request.url())) attempted.push(request.url());
  });
  await page.context().route('**/*', (route) => route.abort('internetdisconnected'));
  await page.context().setOffline(true);
  return attempted;
}

async function goOnline(page) {
  await page.context().setOffline(false);
  await page.context().unroute('**/*');
}

/** Dispatches a real drop event carrying the file on the drop zone. */
async function dropFile(page, path, name) {
  const bytes = readFileSync(path).toString('base64');
  const dataTransfer = await page.evaluateHandle(([b64, fileName]) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([raw], fileName, { type: 'application/octet-stream' }));
    return transfer;
  }, [bytes, name]);
  const zone = page.locator('[data-testid="drop-zone"]');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

test('the offline viewer renders a picked and a dropped bundle with the network disabled', async () => {
  const page = await newPage(browser.context);
  try {
    await openPage(page, '/view', 'view');
    const attempted = await goOffline(page);

    await page.locator('[data-testid="bundle-file"]').setInputFiles(sample('tap-fail.pgfarm.json'));
    await page.locator('[data-rendered="true"]').waitFor();
    assert.ok(await page.locator('.tap-point.tap-fail').count() >= 1, 'TAP failures rendered');
    assert.ok(await page.locator('.tap-diag').count() >= 1, 'TAP diagnostics rendered');
    await screenshot(page, 'view-tap-fail-light');

    await dropFile(page, sample('regress-fail.pgfarm.json'), 'regress-fail.pgfarm.json');
    await page.locator('[data-test="three"][data-status="failed"]').waitFor();
    await page.locator('[data-rendered="true"]').waitFor();
    const diff = page.locator('[data-test="three"] .diff');
    await diff.first().waitFor();
    assert.ok(await diff.locator('.diff-add').count() >= 1);
    assert.ok(await diff.locator('.diff-del').count() >= 1);

    // A gzip bundle is inflated in the browser too.
    await dropFile(page, sample('pass.pgfarm.json.gz'), 'pass.pgfarm.json.gz');
    await page.locator('[data-test][data-status="ok"]').first().waitFor();
    await screenshot(page, 'view-dropped-light');

    assert.deepEqual(attempted, [], 'no request left the page while offline');
    await goOnline(page);
  } finally {
    await page.close();
  }
});

test('the XSS bundle is inert: no dialog, no injected element, payloads shown as text', async () => {
  const page = await newPage(browser.context);
  try {
    await openPage(page, '/view', 'view');
    await page.locator('[data-testid="bundle-file"]').setInputFiles(sample('hostile.pgfarm.json'));
    await page.locator('[data-rendered="true"]').waitFor();
    // Give any injected handler (onerror, onload) time to fire.
    await page.waitForTimeout(500);
    assert.deepEqual(page.dialogs, [], 'no alert/confirm/prompt fired');
    assert.deepEqual(await injectedElements(page), NOTHING_INJECTED);
    const text = await page.locator('section.page').innerText();
    assert.ok(text.includes('<script>alert("xss")</script>'), 'the script payload is visible as text');
    assert.ok(text.includes('onerror=alert(1)'), 'the onerror payload is visible as text');
    assert.ok(text.includes('{{7*7}}${7*7}'), 'template syntax is shown verbatim, not evaluated');
    await screenshot(page, 'view-hostile-light');
  } finally {
    await page.close();
  }
});

test('the viewer opens a same-origin bundle given by ?src= (what pgfarm view uses)', async () => {
  // The same page the dashboard serves, fed by ?src=: here from the seeded server's own bundle route.
  const runs = (await (await fetch(`${BASE}/api/v1/runs?extension=failing&limit=1`)).json()).items;
  assert.equal(runs.length, 1);
  const page = await newPage(browser.context);
  try {
    await page.goto(`${BASE}/view?src=${encodeURIComponent(`/api/v1/runs/${runs[0].uuid}/bundle`)}`);
    await page.locator('[data-rendered="true"]').waitFor();
    assert.ok(await page.locator('[data-test][data-status="failed"]').count() >= 1);
  } finally {
    await page.close();
  }
});

test('pgfarm view BUNDLE serves the real viewer with the bundle preloaded', async () => {
  const bin = join(process.env.PGFARM_E2E_BIN_DIR ?? join(ROOT, 'target', 'debug'), 'pgfarm');
  const viewer = spawn(bin, ['view', sample('tap-fail.pgfarm.json'), '--no-open', '--web-dir', join(ROOT, 'web', 'dist')],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const page = await newPage(browser.context);
  try {
    const url = await new Promise((resolve, reject) => {
      viewer.on('exit', (code) => reject(new Error(`pgfarm view exited with ${code}`)));
      createInterface({ input: viewer.stdout }).once('line', resolve);
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/view\?src=\/local\/bundle\.pgfarm\.json$/);
    await page.goto(url);
    await page.locator('[data-rendered="true"]').waitFor();
    assert.ok(await page.locator('.tap-point.tap-fail').count() >= 1, 'the TAP failures of tap-fail are shown');
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'pgfarm-view-light');
  } finally {
    await page.close();
    viewer.kill('SIGINT');
  }
});

test('on a phone (375 px) no page scrolls horizontally', async () => {
  const page = await newPage(browser.context);
  try {
    await page.setViewportSize({ width: 375, height: 740 });
    const runs = (await (await fetch(`${BASE}/api/v1/runs?extension=failing&limit=1`)).json()).items;
    for (const [path, name] of [['/', 'overview'], ['/runs', 'runs'], ['/failures', 'failures'],
      [`/runs/${runs[0].uuid}`, 'run'], ['/trends', 'trends']]) {
      await openPage(page, path, name);
      if (name === 'run') await page.locator('[data-rendered="true"]').waitFor();
      const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${path} scrolls ${overflow} px horizontally at 375 px`);
      await screenshot(page, `phone-${name}`);
    }
  } finally {
    await page.close();
  }
});

test('keyboard: Tab reaches every navigation link with a visible focus outline', async () => {
  const page = await newPage(browser.context);
  try {
    await openPage(page, '/', 'overview');
    const links = await page.locator('nav a').count();
    assert.ok(links >= 4, `the header has ${links} navigation links`);
    const reached = new Set();
    for (let i = 0; i < 30 && reached.size < links; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || !el.closest('nav')) return null;
        const style = getComputedStyle(el);
        return { href: el.getAttribute('href'), outline: style.outlineStyle !== 'none' || style.boxShadow !== 'none' };
      });
      if (focused?.href) {
        assert.ok(focused.outline, `${focused.href} has a visible focus outline`);
        reached.add(focused.href);
      }
    }
    assert.equal(reached.size, links, `Tab reached ${[...reached].join(', ')}`);
  } finally {
    await page.close();
  }
});
