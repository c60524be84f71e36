-- Says which database it runs in: when `pgfarm test` runs TAP files in parallel, each gets
-- its own copy of the prepared database (pgfarm_tap_pgfarm_N); one at a time, pgfarm_tap.
BEGIN;
SELECT plan(2);
SELECT diag('database: ' || current_database());
SELECT ok(EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgtap'), 'the set-up ran in this database');
SELECT lives_ok('CREATE TABLE scratch (id int)', 'a private scratch table can be created');
SELECT * FROM finish();
ROLLBACK;
