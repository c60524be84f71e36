// The run page against the seeded server: a failed regress test shows its coloured diff (unified
// and side by side), a TAP failure shows its diagnostics, logs highlight their errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openPage, screenshot, seededRuns } from './lib.mjs';

let browser;
let runs;
before(async () => {
  browser = await launch();
  runs = await seededRuns();
});
after(async () => browser?.close());

async function withRun(predicate, what, name, check) {
  const run = runs.find(predicate);
  assert.ok(run, `the seed has ${what}`);
  const page = await newPage(browser.context);
  try {
    const root = await openPage(page, `/runs/${run.uuid}`, 'run');
    await root.locator('[data-rendered="true"]').waitFor();
    await check(page, root, run);
    await screenshot(page, `${name}-light`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(100);
    await screenshot(page, `${name}-dark`);
    assert.deepEqual(page.problems, [], 'errors in the page');
  } catch (err) {
    await screenshot(page, `FAILED-${name}`).catch(() => {});
    throw err;
  } finally {
    await page.close();
  }
}

const colour = (locator, property) =>
  locator.evaluate((el, p) => getComputedStyle(el)[p], property);

test('a failed regress test shows its diff, coloured, in both layouts', async () => {
  await withRun((r) => r.extension === 'failing' && r.failed_stage === 'regress',
    'a run of `failing` that failed at regress', 'run-regress-fail', async (page, root) => {
      const failed = root.locator('[data-test][data-status="failed"]').first();
      await failed.waitFor();
      let diff = failed.locator('.diff');
      if (await diff.count() === 0) {
        await failed.locator('button, summary').first().click();
      }
      diff = failed.locator('.diff').first();
      await diff.waitFor();
      const add = diff.locator('.diff-add').first();
      const del = diff.locator('.diff-del').first();
      const ctx = diff.locator('.diff-ctx').first();
      await add.waitFor();
      await del.waitFor();
      const addBg = await colour(add, 'backgroundColor');
      const delBg = await colour(del, 'backgroundColor');
      assert.notEqual(addBg, delBg, 'added and removed lines differ in colour');
      if (await ctx.count() > 0) {
        assert.notEqual(addBg, await colour(ctx, 'backgroundColor'), 'context lines are not coloured as added');
      }
      // Colour is never the only signal: the lines carry their + / − marks as text.
      assert.match(await add.innerText(), /\+/);

      assert.equal(await diff.getAttribute('data-diff-mode'), 'unified');
      await diff.locator('button[data-diff-mode]:not([data-diff-mode="unified"])').click();
      await page.waitForFunction((el) => el.getAttribute('data-diff-mode') !== 'unified', await diff.elementHandle());
      assert.ok(await diff.locator('.diff-add').count() > 0, 'side by side still shows added lines');
      assert.ok(await diff.locator('.diff-del').count() > 0, 'side by side still shows removed lines');
    });
});

test('a TAP failure shows its failed points and their diagnostics', async () => {
  await withRun((r) => r.failed_stage === 'tap' || (r.extension === 'pgtap_samples' && r.status === 'failed'),
    'a run that failed at tap', 'run-tap-fail', async (_page, root) => {
      const failures = root.locator('.tap-point.tap-fail');
      await failures.first().waitFor();
      assert.ok(await failures.count() >= 1);
      const diag = root.locator('.tap-diag');
      await diag.first().waitFor();
      const text = (await diag.allInnerTexts()).join('\n');
      assert.match(text, /have|want|got|expected|Failed test/i, `diagnostics shown: ${text.slice(0, 300)}`);
    });
});

test('a log line with ERROR is highlighted', async () => {
  // testdata/bundles/tap-fail.pgfarm.json: its tap stage log has psql's ERROR line.
  await withRun((r) => r.extension === 'pgtap_samples' && r.status === 'failed',
    'the tap-fail sample run', 'run-logs', async (page, root) => {
      // Logs may be folded: open every collapsed log first.
      for (const summary of await root.locator('details:not([open]) > summary').all()) {
        await summary.click().catch(() => {});
      }
      const errors = page.locator('.log-error');
      await errors.first().waitFor({ timeout: 10000 });
      assert.match(await errors.first().innerText(), /ERROR|FATAL|PANIC/);
    });
});
