//! pgnode integration tests against real PostgreSQL installations (one test binary).
//!
//! Installations come from `$PGFARM_PG_DIR` or `<workspace>/.pg/<major>` (made by
//! scripts/setup-pg.sh). A missing major is skipped with a printed note, except 15, which must
//! always be there. All tests share the default initdb cache, so initdb runs once per major.

mod support;

mod basics;
