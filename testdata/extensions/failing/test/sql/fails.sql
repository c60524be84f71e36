-- Fails on purpose: the expected file claims two() returns 3.
SELECT two() AS two;
