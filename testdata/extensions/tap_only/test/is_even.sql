-- pgTAP tests for tap_only, run by `pgfarm test` (tap stage) or `pgfarm prove`.
BEGIN;
CREATE EXTENSION IF NOT EXISTS tap_only;
SELECT plan(4);
SELECT has_function('is_even', ARRAY['integer']);
SELECT ok(is_even(2), '2 is even');
SELECT ok(NOT is_even(3), '3 is odd');
SELECT is(is_even(NULL), NULL, 'NULL stays NULL');
SELECT * FROM finish();
ROLLBACK;
