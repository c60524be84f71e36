// Every page of the dashboard against the seeded server: it loads, shows the seeded data, and is
// saved as a screenshot in the light and the dark theme (target/e2e-artifacts/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openPage, api, screenshot, seededRuns, MACHINE } from './lib.mjs';

let browser;
let runs;
before(async () => {
  browser = await launch();
  runs = await seededRuns();
  assert.ok(runs.length >= 6, `the seed stored ${runs.length} runs, expected at least 6`);
});
after(async () => browser?.close());

/** Opens a page in both themes, runs `check` on the light one, saves both screenshots. */
async function visit(path, name, check) {
  const page = await newPage(browser.context);
  try {
    const root = await openPage(page, path, name);
    await check?.(page, root);
    await screenshot(page, `${name}-light`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(100);
    await screenshot(page, `${name}-dark`);
    assert.deepEqual(page.problems, [], `${path}: errors in the page`);
  } catch (err) {
    await screenshot(page, `FAILED-${name}`).catch(() => {});
    throw err;
  } finally {
    await page.close();
  }
}

const failingRun = () => {
  const run = runs.find((r) => r.extension === 'failing' && r.status === 'failed');
  assert.ok(run, 'the seed has a failed run of the `failing` extension');
  return run;
};

test('overview shows the matrix with a cell per seeded extension and PostgreSQL major', async () => {
  await visit('/', 'overview', async (page) => {
    // Plain names only: the hostile sample's name is checked in hostile.test.mjs.
    const plain = runs.filter((r) => /^[\w.-]+$/.test(r.extension));
    const seeded = new Set(plain.map((r) => `${r.extension}/${r.pg_major}`));
    for (const key of seeded) {
      const cells = page.locator(`a.cell[data-cell^="${key}/"]`);
      assert.ok(await cells.count() >= 1, `no matrix cell for ${key}`);
    }
    const failed = page.locator('a.cell.status-failed[data-cell^="failing/"]');
    assert.ok(await failed.count() >= 1, 'the failing extension has a failed cell');
  });
});

test('the matrix links through to the run of the cell', async () => {
  const page = await newPage(browser.context);
  try {
    await openPage(page, '/', 'overview');
    const cell = page.locator('a.cell.status-failed[data-cell^="failing/"]').first();
    const href = await cell.getAttribute('href');
    assert.match(href, /^\/runs\/[0-9a-f-]{36}$/);
    await cell.click();
    await page.locator('section.page[data-page="run"]').waitFor();
    assert.equal(new URL(page.url()).pathname, href);
    await page.locator('[data-rendered="true"]').waitFor();
    assert.match(await page.locator('section.page').innerText(), /failing/);
  } finally {
    await page.close();
  }
});

test('extensions page lists every seeded extension', async () => {
  await visit('/extensions', 'extensions', async (_page, root) => {
    const text = await root.innerText();
    for (const ext of ['failing', 'tap_only', 'pure_sql']) assert.match(text, new RegExp(ext));
  });
});

test('extension page shows its versions and machine x PostgreSQL grid', async () => {
  const run = failingRun();
  await visit('/extensions/failing', 'extension', async (_page, root) => {
    const text = await root.innerText();
    assert.ok(text.includes(run.version), `version ${run.version} shown`);
    assert.ok(text.includes(String(run.pg_major)), `PostgreSQL ${run.pg_major} shown`);
  });
  await visit(`/extensions/failing/versions/${encodeURIComponent(run.version)}`, 'extension-version',
    async (_page, root) => assert.ok((await root.innerText()).includes(MACHINE), `machine ${MACHINE} shown`));
});

test('runs page lists the seeded runs and filters by extension in the URL', async () => {
  await visit('/runs', 'runs', async (_page, root) => {
    const text = await root.innerText();
    for (const ext of ['failing', 'tap_only', 'pure_sql']) assert.match(text, new RegExp(ext));
  });
  await visit('/runs?extension=pure_sql', 'runs', async (_page, root) => {
    const text = await root.innerText();
    assert.match(text, /pure_sql/);
    assert.doesNotMatch(text, /tap_only/);
  });
});

test('failures page shows the failed runs of the last days', async () => {
  await visit('/failures', 'failures', async (_page, root) => {
    const text = await root.innerText();
    assert.match(text, /failing/);
  });
});

test('test history shows one regress test across runs and PostgreSQL majors', async () => {
  const detail = await api(`/api/v1/runs/${failingRun().uuid}`);
  const test = detail.tests.find((t) => t.status === 'failed') ?? detail.tests[0];
  assert.ok(test, 'the failed run has tests');
  const history = await api(`/api/v1/extensions/failing/tests/${encodeURIComponent(test.name)}/history`);
  await visit(`/extensions/failing/tests/${encodeURIComponent(test.name)}/history`, 'history',
    async (page, root) => {
      assert.ok((await root.innerText()).includes(test.name));
      const rows = await page.locator('tr[data-status]').count();
      assert.equal(rows, history.entries?.length ?? history.items?.length ?? rows);
      assert.ok(rows >= 2, `history of ${test.name} has ${rows} rows, expected one per seeded major`);
    });
});

test('machines and machine pages show the seeding machine', async () => {
  await visit('/machines', 'machines', async (_page, root) =>
    assert.ok((await root.innerText()).includes(MACHINE)));
  await visit(`/machines/${encodeURIComponent(MACHINE)}`, 'machine', async (_page, root) => {
    const text = await root.innerText();
    assert.ok(text.includes(MACHINE));
    assert.match(text, /failing|pure_sql|tap_only/);
  });
});

/** Colours of a canvas: distinct values, painted and total pixels. */
async function canvasColours(canvas) {
  return canvas.evaluate((c) => {
    const ctx = c.getContext('2d');
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const seen = new Set();
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] !== 0) painted++;
      seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2] | (data[i + 3] << 24));
    }
    return { distinct: seen.size, painted, total: data.length / 4 };
  });
}

const CHARTS = ['runs-per-day', 'pass-rate', 'runs-per-major', 'stage-durations'];

test('trends page draws its charts, stage durations included, on canvases with non-blank pixels', async () => {
  await visit('/trends', 'trends', async (page) => {
    await page.locator('canvas[data-chart="stage-durations"]').waitFor();
    await page.waitForTimeout(300);
    for (const name of CHARTS) {
      const colours = await canvasColours(page.locator(`canvas[data-chart="${name}"]`));
      assert.ok(colours.total > 0, `${name}: canvas has a size`);
      assert.ok(colours.distinct >= 3, `${name}: canvas has ${colours.distinct} colours: not drawn`);
      assert.ok(colours.painted > 0, `${name}: canvas has painted pixels`);
    }
    // The legend names the stages the seeded runs ran, with their mean durations (from the API).
    const stages = await api('/api/v1/trends/stages?days=30');
    assert.ok(stages.some((p) => p.stage === 'regress' && p.n_runs > 0), 'the seed ran regress stages');
    const label = await page.locator('canvas[data-chart="stage-durations"]').getAttribute('aria-label');
    assert.match(label, /every PostgreSQL major/);
  });
});

test('trends filter by extension and the stage chart by PostgreSQL major, in the URL', async () => {
  const page = await newPage(browser.context);
  try {
    const major = runs.find((r) => r.extension === 'tap_only').pg_major;
    await openPage(page, `/trends?days=7&extension=tap_only&pg=${major}`, 'trends');
    const canvas = page.locator('canvas[data-chart="stage-durations"]');
    await canvas.waitFor();
    assert.equal(await canvas.getAttribute('aria-label'), `Mean stage durations per day on PostgreSQL ${major}`);
    assert.equal(await page.locator('input[name="extension"]').inputValue(), 'tap_only');
    // Only tap_only's runs are counted: the stats line is global, the charts are not.
    const expected = (await api('/api/v1/trends?days=7&extension=tap_only'))
      .reduce((sum, p) => sum + p.n_runs, 0);
    const seeded = runs.filter((r) => r.extension === 'tap_only').length;
    assert.equal(expected, seeded, 'the API counts only tap_only runs');
    const colours = await canvasColours(canvas);
    assert.ok(colours.distinct >= 3, 'the filtered stage chart is drawn');
    await openPage(page, '/trends?extension=no_such_extension', 'trends');
    await page.getByText('No runs in this period.').waitFor();
    await page.getByText('No stage ran in this period.').waitFor();
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('the theme switch follows the system colour scheme until it is used', async () => {
  const page = await newPage(browser.context);
  try {
    await openPage(page, '/', 'overview');
    const toggle = page.locator('button.theme-toggle');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForFunction(() => document.querySelector('button.theme-toggle').textContent.includes('Dark theme'));
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForFunction(() => document.querySelector('button.theme-toggle').textContent.includes('Light theme'));
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await toggle.click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    assert.equal(await page.evaluate(() => localStorage.getItem('pgfarm-theme')), 'light');
    await page.evaluate(() => localStorage.removeItem('pgfarm-theme'));
  } finally {
    await page.close();
  }
});

test('admin page loads behind its token prompt', async () => {
  await visit('/admin', 'admin');
});

test('an unknown path shows the not-found page', async () => {
  await visit('/no/such/page', 'not-found');
});

test('a server error shows its message, not a blank page', async () => {
  const page = await newPage(browser.context);
  try {
    const uuid = '01960000-0000-7000-8000-00000000dead';
    const response = await fetch(`${process.env.PGFARM_E2E_URL}/api/v1/runs/${uuid}`);
    const body = await response.json();
    assert.equal(response.status, 404);
    await page.goto(`${process.env.PGFARM_E2E_URL}/runs/${uuid}`);
    const error = page.locator('.state-error');
    await error.waitFor();
    assert.ok((await error.innerText()).includes(body.message), `shows "${body.message}"`);
    await screenshot(page, 'run-not-found-light');
  } finally {
    await page.close();
  }
});

test('pages do not jump while their data loads (cumulative layout shift under 0.05)', async () => {
  const failing = failingRun();
  const pages = [['/', 'overview'], ['/extensions', 'extensions'], ['/extensions/failing', 'extension'],
    ['/runs', 'runs'], [`/runs/${failing.uuid}`, 'run'], ['/failures?days=30', 'failures'],
    ['/machines', 'machines'], [`/machines/${encodeURIComponent(MACHINE)}`, 'machine'], ['/trends', 'trends']];
  for (const [path, name] of pages) {
    const page = await newPage(browser.context);
    try {
      // The browser's own layout-shift entries from the first paint on (shifts right after a
      // click or key press do not count, as in the Core Web Vitals definition).
      await page.addInitScript(() => {
        window.__shift = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
        }).observe({ type: 'layout-shift', buffered: true });
      });
      await openPage(page, path, name);
      if (name === 'run') await page.locator('[data-rendered="true"]').waitFor();
      await page.waitForTimeout(500);
      const shift = await page.evaluate(() => window.__shift);
      assert.ok(shift < 0.05, `${path}: cumulative layout shift ${shift.toFixed(4)}`);
    } finally {
      await page.close();
    }
  }
});
