//! Finding the installations under test.

use std::path::PathBuf;

use pgfarm_pgnode::Installation;

/// The folder holding `<major>/` trees.
pub(crate) fn pg_dir() -> PathBuf {
    match std::env::var_os("PGFARM_PG_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.pg")),
    }
}

/// The installation of `major`, or `None` with a printed note. Major 15 must exist.
pub(crate) fn pg(major: u32) -> Option<Installation> {
    let bindir = pg_dir().join(major.to_string()).join("bin");
    match Installation::from_bindir(&bindir) {
        Ok(installation) => Some(installation),
        Err(err) if major == 15 => {
            panic!("PostgreSQL 15 is required for the pgnode tests ({err}); run scripts/setup-pg.sh")
        }
        Err(err) => {
            println!("note: skipping PostgreSQL {major}: {err}");
            None
        }
    }
}

/// PostgreSQL 15 (always required).
pub(crate) fn pg15() -> Installation {
    pg(15).expect("pg(15) panics when missing")
}

/// Every installed major from 13 to 18.
pub(crate) fn all_majors() -> Vec<Installation> {
    (13..=18).filter_map(pg).collect()
}
