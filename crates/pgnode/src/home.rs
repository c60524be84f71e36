//! pgfarm's per-user data folder: where `pgfarm pg install` puts PostgreSQL trees and keeps its
//! downloads, and the first place [`crate::Installation::discover`] looks.

use std::path::PathBuf;

/// `$PGFARM_HOME` when set and not empty, else `$XDG_DATA_HOME/pgfarm`, else
/// `~/.local/share/pgfarm`; `None` only when none of these variables is set (no home folder).
pub fn dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("PGFARM_HOME")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("pgfarm")))
        .or_else(|| var("HOME").map(|d| d.join(".local/share/pgfarm")))
}

/// The folder holding one PostgreSQL tree per major (`<home>/pg/<major>`).
pub fn trees_dir() -> Option<PathBuf> {
    dir().map(|d| d.join("pg"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn trees_live_under_pg_in_the_home_folder() {
        // Only the relation is checked here: the variables are process-wide and other tests
        // run in parallel threads.
        if let (Some(home), Some(trees)) = (super::dir(), super::trees_dir()) {
            assert_eq!(trees, home.join("pg"));
        }
    }
}
