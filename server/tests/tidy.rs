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

/// The schema the migrations of `kind` build, as comparable lines: `table T column C`,
/// `table T primary key (...)`, `index N on T (...) [where ...]`. Column types are left out
/// (SQLite's INTEGER is PostgreSQL's BIGINT here); names, keys and indexes must agree.
fn schema(kind: &str) -> std::collections::BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(kind);
    let mut sql = String::new();
    for name in migration_files(kind) {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        for line in text.lines() {
            sql.push_str(line.split("--").next().unwrap_or_default());
            sql.push('\n');
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for statement in sql.split(';') {
        let words: Vec<String> =
            statement.split_whitespace().map(|w| w.to_ascii_lowercase()).collect();
        let text = words.join(" ");
        let text = text.replace("( ", "(").replace(" )", ")");
        if let Some(rest) = text.strip_prefix("create table ") {
            let (table, body) = rest.split_once(' ').unwrap_or((rest, ""));
            let body = body.trim().trim_start_matches('(').trim_end_matches(')');
            let mut depth = 0;
            let mut part = String::new();
            let mut parts = Vec::new();
            for c in body.chars() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.push(std::mem::take(&mut part));
                        continue;
                    }
                    _ => {}
                }
                part.push(c);
            }
            parts.push(part);
            for part in parts {
                let part = part.trim();
                let first = part.split_whitespace().next().unwrap_or_default();
                match first {
                    "primary" => out.insert(format!("table {table} {part}")),
                    "unique" | "foreign" | "constraint" | "check" => {
                        out.insert(format!("table {table} {part}"))
                    }
                    column => {
                        let key = part.contains("primary key");
                        let unique = part.contains(" unique");
                        let not_null = part.contains("not null");
                        out.insert(format!(
                            "table {table} column {column} primary_key={key} unique={unique} not_null={not_null}"
                        ))
                    }
                };
            }
        } else if let Some(rest) = text.strip_prefix("alter table ") {
            let (table, action) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Some(column) = action.strip_prefix("add column ") {
                let name = column.split_whitespace().next().unwrap_or_default();
                let not_null = column.contains("not null");
                out.insert(format!(
                    "table {table} column {name} primary_key=false unique=false not_null={not_null}"
                ));
            } else {
                out.insert(format!("table {table} {action}"));
            }
        } else if text.starts_with("create index ") || text.starts_with("create unique index ") {
            out.insert(text.replace(" if not exists", ""));
        } else if !text.is_empty() && (text.starts_with("create") || text.starts_with("drop")) {
            out.insert(text);
        }
    }
    out
}

#[test]
fn sqlite_and_postgres_migrations_build_the_same_tables_columns_and_indexes() {
    let sqlite = schema("sqlite");
    let postgres = schema("postgres");
    assert!(sqlite.iter().filter(|line| line.starts_with("table runs column")).count() > 10);
    assert!(sqlite.iter().any(|line| line.starts_with("create index")), "{sqlite:#?}");
    let only_sqlite: Vec<&String> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<&String> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations disagree:\nonly in sqlite/: {only_sqlite:#?}\nonly in postgres/: {only_postgres:#?}"
    );
}
