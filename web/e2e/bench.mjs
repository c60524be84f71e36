// Render benchmark of the offline viewer (issue 6: a run with 20,000 TAP points and a 10,000-line
// diff renders in < 300 ms after the data arrives). `just bench-web` runs it.
//
// 1. generates the bundle (large-bundle.mjs) and validates it with pgfarm's own bundle reader:
//    `pgfarm view BUNDLE` reads and validates before it serves (exit 2 on a bad bundle);
// 2. that `pgfarm view` serves web/dist; headless chromium opens /view, and for each of 5 rounds
//    (a fresh page load each) measures the time from setInputFiles to `[data-rendered="true"]`
//    (includes reading the file, JSON decoding, TAP parsing and diffing in wasm, and the DOM) and
//    reads the app's performance.measure "pgfarm:render" (the data is decoded to rendered);
// 3. prints both medians and fails (exit 1) when the "pgfarm:render" median is 300 ms or more.
//
//   node web/e2e/bench.mjs          needs web/dist (scripts/web-build.sh) and target/debug/pgfarm
//   PGFARM_BIN_DIR=DIR              where pgfarm is (default target/debug)
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { largeBundle, TAP_POINTS, EXPECTED_LINES } from './large-bundle.mjs';
import { launch, newPage, ROOT } from './lib.mjs';

const ROUNDS = 5;
const BUDGET_MS = 300;
const bin = process.env.PGFARM_BIN_DIR ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug');
const dir = mkdtempSync(join(tmpdir(), 'pgfarm-bench-web-'));
const file = join(dir, 'large.pgfarm.json');
writeFileSync(file, JSON.stringify(largeBundle()));

const viewer = spawn(join(bin, 'pgfarm'), ['view', file, '--no-open', '--web-dir', join(ROOT, 'web', 'dist')],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  viewer.on('exit', (code) => reject(new Error(`pgfarm view exited with ${code}: the bundle is not valid?`)));
  createInterface({ input: viewer.stdout }).once('line', resolve);
});
const origin = new URL(url).origin;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const browser = await launch();
const wall = [];
const measured = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const page = await newPage(browser.context);
    await page.goto(`${origin}/view`);
    await page.locator('[data-testid="bundle-file"]').waitFor();
    const start = Date.now();
    await page.locator('[data-testid="bundle-file"]').setInputFiles(file);
    await page.locator('[data-rendered="true"]').waitFor({ timeout: 60000 });
    wall.push(Date.now() - start);
    const entry = await page.evaluate(() =>
      performance.getEntriesByName('pgfarm:render').map((e) => e.duration).pop() ?? null);
    if (entry === null) throw new Error('the page recorded no performance.measure "pgfarm:render"');
    measured.push(entry);
    await page.close();
  }
} finally {
  await browser.close();
  viewer.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (values) => values.map((v) => v.toFixed(0)).join(', ');
console.log(`bundle: ${TAP_POINTS} TAP points, a regress diff over ${EXPECTED_LINES} expected lines`);
console.log(`setInputFiles -> data-rendered: median ${median(wall).toFixed(0)} ms (${fmt(wall)})`);
console.log(`performance.measure pgfarm:render: median ${median(measured).toFixed(1)} ms (${fmt(measured)})`);
if (median(measured) >= BUDGET_MS) {
  console.error(`FAIL: pgfarm:render median ${median(measured).toFixed(1)} ms is not under ${BUDGET_MS} ms`);
  process.exit(1);
}
console.log(`ok: under ${BUDGET_MS} ms`);
