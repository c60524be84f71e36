// The XSS bundle (testdata/bundles/hostile.pgfarm.json) stored by the real server and shown by
// every server-backed page that can show its strings: the extension, version, test and PostgreSQL
// names, logs, TAP and diffs are full of HTML, script and template payloads. Each page must render
// them as text: no dialog, no injected element or handler, no javascript: link. (The offline
// viewer's check of the same file is in viewer.test.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, openPage, api, screenshot, injectedElements, NOTHING_INJECTED, MACHINE,
} from './lib.mjs';

const PAYLOAD = '<script>alert("xss")</script>';
let browser;
let run;
before(async () => {
  browser = await launch();
  const page = await api(`/api/v1/runs?machine=${encodeURIComponent(MACHINE)}&limit=200`);
  run = page.items.find((r) => r.extension.includes(PAYLOAD));
  assert.ok(run, 'web/e2e/run.sh stored the hostile sample under the e2e machine');
});
after(async () => browser?.close());

const seg = encodeURIComponent;

test('every server-backed page shows the hostile run as inert text', async () => {
  const detail = await api(`/api/v1/runs/${run.uuid}`);
  const test = detail.tests.find((t) => t.name.includes(PAYLOAD)) ?? detail.tests[0];
  assert.ok(test, 'the hostile run has tests');
  const pages = [
    ['/', 'overview'],
    ['/extensions', 'extensions'],
    [`/extensions/${seg(run.extension)}`, 'extension'],
    [`/extensions/${seg(run.extension)}/versions/${seg(run.version)}`, 'extension-version'],
    [`/extensions/${seg(run.extension)}/tests/${seg(test.name)}/history`, 'history'],
    ['/runs', 'runs'],
    [`/runs/${run.uuid}`, 'run'],
    ['/failures?days=3660', 'failures'],
    [`/machines/${seg(MACHINE)}`, 'machine'],
    [`/trends?extension=${seg(run.extension)}`, 'trends'],
  ];
  for (const [path, name] of pages) {
    const page = await newPage(browser.context);
    try {
      const root = await openPage(page, path, name);
      if (name === 'run') await page.locator('[data-rendered="true"]').waitFor();
      // Expand what is folded (logs, TAP subtests) so their content is in the DOM too.
      for (const summary of await page.locator('details:not([open]) > summary').all()) {
        await summary.click().catch(() => {});
      }
      // Give any injected handler (onerror, onload) time to fire.
      await page.waitForTimeout(300);
      assert.deepEqual(page.dialogs, [], `${path}: no alert/confirm/prompt fired`);
      assert.deepEqual(await injectedElements(page), NOTHING_INJECTED, `${path}: nothing injected`);
      assert.deepEqual(page.problems, [], `${path}: errors in the page`);
      const text = await root.innerText();
      if (name !== 'trends' && (name !== 'failures' || run.status === 'failed')) {
        assert.ok(text.includes(PAYLOAD), `${path}: the script payload is shown as text`);
      }
      if (name === 'run') {
        assert.ok(text.includes('onerror=alert(1)'), 'the onerror payload is shown as text');
        assert.ok(text.includes('{{7*7}}${7*7}'), 'template syntax is shown verbatim, not evaluated');
        await screenshot(page, 'run-hostile-light');
      }
    } catch (err) {
      await screenshot(page, `FAILED-hostile-${name}`).catch(() => {});
      throw err;
    } finally {
      await page.close();
    }
  }
});
