// Generates the render benchmark's bundle: testdata/bundles/regress-fail.pgfarm.json extended with
// a regress test whose diff against its expected file is 12,000 lines (10,000 expected lines, every
// fifth one changed: 10,000 context/removed + 2,000 added) and a pgTAP file of 20,000 test points
// (every 100th fails, with YAML and pgTAP have/want diagnostics). The tap stage becomes `failed`.
//
//   node web/e2e/large-bundle.mjs OUT.pgfarm.json    writes it (then validate: see bench.mjs)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
export const TAP_POINTS = 20000;
export const EXPECTED_LINES = 10000;

export function largeBundle() {
  const bundle = JSON.parse(readFileSync(join(ROOT, 'testdata/bundles/regress-fail.pgfarm.json'), 'utf8'));
  const template = JSON.parse(readFileSync(join(ROOT, 'testdata/bundles/tap-fail.pgfarm.json'), 'utf8'));
  bundle.run.id = '01960000-0000-7000-8000-0000000b0001';

  const expected = [];
  const actual = [];
  for (let i = 1; i <= EXPECTED_LINES; i++) {
    expected.push(` ${i} | row ${i} of the big table`);
    actual.push(i % 5 === 0 ? ` ${i} | row ${i} CHANGED` : ` ${i} | row ${i} of the big table`);
  }
  bundle.regress.push({
    name: 'big',
    group: 3,
    status: 'failed',
    duration_ms: 1234,
    actual: `SELECT * FROM big;\n${actual.join('\n')}\n`,
    expected: [{ file_name: 'big.out', content: `SELECT * FROM big;\n${expected.join('\n')}\n` }],
    psql_exit_code: 0,
    chosen_expected: 'big.out',
  });

  const lines = [`1..${TAP_POINTS}`];
  for (let i = 1; i <= TAP_POINTS; i++) {
    if (i % 100 === 0) {
      lines.push(`not ok ${i} - value ${i} matches`);
      lines.push(`# Failed test ${i}: "value ${i} matches"`);
      lines.push(`#         have: ${i}`);
      lines.push(`#         want: ${i + 1}`);
    } else {
      lines.push(`ok ${i} - value ${i} matches`);
    }
  }
  const tapStage = template.stages.find((s) => s.kind === 'tap');
  const index = bundle.stages.findIndex((s) => s.kind === 'tap');
  bundle.stages[index] = { ...tapStage };
  bundle.tap = [{
    path: 'test/sql/big.sql',
    status: 'failed',
    duration_ms: 4321,
    exit_code: 0,
    stream: `${lines.join('\n')}\n# Looks like you failed ${TAP_POINTS / 100} tests of ${TAP_POINTS}\n`,
    stderr: '',
  }];
  return bundle;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node web/e2e/large-bundle.mjs OUT.pgfarm.json');
    process.exit(2);
  }
  writeFileSync(out, JSON.stringify(largeBundle()));
}
