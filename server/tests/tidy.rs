//! Tidy checks of the server: the SQLite and PostgreSQL migration folders carry the same
//! versions and names, and the embedded migration lists name exactly those files.

use std::path::Path;

fn migration_files(kind: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(kind);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_and_postgres_migrations_have_the_same_versions_and_names() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty(), "no migrations found");
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres differ");
    for name in &sqlite {
        let (version, rest) =
            name.split_once('_').unwrap_or_else(|| panic!("{name}: expected NNNN_name.sql"));
        assert!(
            version.len() == 4 && version.bytes().all(|b| b.is_ascii_digit()),
            "{name}: version must be 4 digits"
        );
        assert!(rest.ends_with(".sql"));
    }
}

#[test]
fn embedded_migration_lists_name_exactly_the_files() {
    for (kind, embedded) in [
        ("sqlite", pgfarm_server::db::SQLITE_MIGRATIONS),
        ("postgres", pgfarm_server::db::POSTGRES_MIGRATIONS),
    ] {
        let files = migration_files(kind);
        let listed: Vec<String> = embedded
            .iter()
            .map(|(version, description, _)| format!("{version:04}_{description}.sql"))
            .collect();
        assert_eq!(listed, files, "server/src/db/mod.rs {kind} list vs migrations/{kind}/");
    }
}
