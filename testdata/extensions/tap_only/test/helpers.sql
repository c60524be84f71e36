-- Not a test file (no plan): discovery must skip it.
SELECT 1;
