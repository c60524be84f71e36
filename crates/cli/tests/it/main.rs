//! The `pgfarm` binary end to end, one test binary with a module per area (ripgrep's
//! `tests/tests.rs`). Tests that need PostgreSQL or `../shared/corpus` follow
//! `pgfarm_testsupport`'s policy: a named skip locally, a failure under
//! `PGFARM_TEST_REQUIRE_PG=1` / `PGFARM_TEST_REQUIRE_CORPUS=1`.

// `pgfarm diff` against GNU diff on the corpus pairs.
mod diff;
// `pgfarm pg install` / `remove` and the installed binaries used outside the repository.
mod install;
// `pgfarm pgxn mirror`.
mod mirror;
// `pgfarm pg list` and installation selection.
mod pg;
// `pgfarm prove` side by side with pg_prove.
mod prove;
// `pgfarm regress` side by side with pg_regress.
mod regress;
// --filter, --tag, --exclude-tag, --stage, --fail-fast, --allow-empty (issue 15).
mod select;
// `pgfarm serve`, `machine register`, `machine approve` and `submit`.
mod server;
// `pgfarm test --sandbox`: bubblewrap stops the network, writes outside, fork bombs.
mod sandbox;
// pgfarm.toml steps: setup, teardown (also after SIGTERM), @setup/@teardown, {rnd1} tokens.
mod steps;
// `pgfarm tap`.
mod tap;
// `pgfarm test` on the sample extensions.
mod test;
// `pgfarm test pgxn:NAME`, FILE.zip and URL.zip against a test mirror (file:// and HTTP).
mod pgxn;
// `pgfarm test`'s build cache.
mod build_cache;
// `pgfarm test --coverage` and `--coverage-threshold`.
mod coverage;
// `pgfarm test --keep`.
mod keep;
// Repository-wide tidy checks.
mod tidy;
// `pgfarm view`.
mod view;
// `pgfarm test --watch` (issue 15, item 5).
mod watch;
// `pgfarm worker` against a real server.
mod worker;
// `pgfarm worker --pgxn` against a served PGXN mirror and a real server.
mod pgxn_worker;
// `pgfarm test` on the real extensions of the shared corpus.
mod corpus;
// `pgfarm test` against `make installcheck` (PGXS parity).
mod parity;
