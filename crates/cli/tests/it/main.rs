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
// `pgfarm serve`, `machine register`, `machine approve` and `submit`.
mod server;
// `pgfarm tap`.
mod tap;
// `pgfarm test` on the sample extensions.
mod test;
// Repository-wide tidy checks.
mod tidy;
// `pgfarm view`.
mod view;
// `pgfarm worker` against a real server.
mod worker;
// `pgfarm test` on the real extensions of the shared corpus.
mod corpus;
// `pgfarm test` against `make installcheck` (PGXS parity).
mod parity;
