SELECT parity_of(3), parity_of(4);
-- set by parity.conf through EXTRA_REGRESS_OPTS=--temp-config
SHOW parity.flag;
-- written relative to the source folder, where make installcheck runs
\copy (SELECT parity_of(n) FROM generate_series(1, 3) n) TO 'results/written.txt'
\copy (SELECT 'copied back') TO 'results/again.txt'
