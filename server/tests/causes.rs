//! Failure causes from ingest to the API, on both backends: a real server on a real port
//! ingesting bundles whose logs are the real failure logs of testdata/causes; the stored cause
//! and line of each run, the failures filter (and its 400), the counts of `/api/v1/stats` and
//! `/api/v1/trends/causes`, and the start-up backfill of runs stored before migration 0007.

mod common;

use common::{Backend, Farm, fresh_uuid, sample};
use pgfarm_model::{Bundle, RawText, StageKind, StageStatus};
use serde_json::Value;

/// A fixture log of testdata/causes.
fn fixture(name: &str) -> String {
    let path = common::sample_path("../causes").join(format!("{name}.log"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The pass sample failing at `kind` with `log` as that stage's log (later stages skipped, as
/// the runner does), judged by pgfarm-verdict as the runner would, for machine `m1`.
fn failing_at(kind: StageKind, log: &str, extension: &str) -> Bundle {
    let mut bundle = sample("pass.pgfarm.json");
    for stage in &mut bundle.stages {
        if stage.kind == kind {
            stage.status = StageStatus::Failed;
            stage.log = RawText::from(log.to_owned());
            stage.error = Some(format!("{kind} failed"));
        } else if stage.kind > kind {
            stage.status = StageStatus::Skipped;
            stage.error = Some(format!("{kind} failed"));
        }
    }
    if kind < StageKind::Regress {
        bundle.regress.clear();
    }
    if kind < StageKind::Tap {
        bundle.tap.clear();
    }
    finish(bundle, extension)
}

fn finish(mut bundle: Bundle, extension: &str) -> Bundle {
    bundle.machine.name = "m1".into();
    bundle.run.id = fresh_uuid();
    bundle.extension.name = extension.into();
    pgfarm_server::verdict::judge(&mut bundle);
    bundle
}

/// (bundle, expected cause, a piece of the expected line; "" for none)
fn runs() -> Vec<(Bundle, Option<&'static str>, &'static str)> {
    let mut crashed = sample("regress-fail.pgfarm.json");
    crashed.server_log = RawText::from(fixture("server_crash"));
    vec![
        (
            failing_at(StageKind::Build, &fixture("missing_header"), "hdr"),
            Some("missing_header"),
            "utils/rel_removed.h",
        ),
        (
            failing_at(StageKind::Build, &fixture("no_member"), "hdr"),
            Some("no_member"),
            "has no member named",
        ),
        (
            failing_at(StageKind::Load, &fixture("missing_extension_dependency"), "dep"),
            Some("missing_extension_dependency"),
            "pgfarm_absent_dep",
        ),
        (finish(crashed, "crash"), Some("server_crash"), "terminated by signal 11"),
        (failing_at(StageKind::Load, &fixture("unknown"), "dep"), Some("unknown"), ""),
        (finish(sample("pass.pgfarm.json"), "dep"), None, ""),
    ]
}

fn submit_all(farm: &Farm, runs: &[(Bundle, Option<&str>, &str)]) {
    let secret = farm.approved_machine("m1");
    for (bundle, ..) in runs {
        let answer = farm.submit("m1", &secret, &bundle.to_gzip_vec());
        assert_eq!(answer.status, 201, "{}", answer.text());
    }
}

/// Every run's stored cause and line, as `GET /api/v1/runs/{uuid}` says.
fn check_runs(farm: &Farm, runs: &[(Bundle, Option<&str>, &str)]) {
    for (bundle, cause, piece) in runs {
        let run = farm.get(&format!("/api/v1/runs/{}", bundle.run.id)).json();
        let status = run["status"].as_str().unwrap();
        assert_eq!(
            run["cause"].as_str(),
            *cause,
            "{status} run of {}: {run}",
            bundle.extension.name
        );
        match run["cause_line"].as_str() {
            Some(line) => assert!(!piece.is_empty() && line.contains(piece), "{run}"),
            None => assert!(piece.is_empty(), "{run}"),
        }
    }
}

/// `[{"cause", "n_runs"}]` as (cause, n) pairs.
fn pairs(value: &Value) -> Vec<(String, i64)> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|item| (item["cause"].as_str().unwrap().to_owned(), item["n_runs"].as_i64().unwrap()))
        .collect()
}

/// The counts of `/api/v1/stats` and `/api/v1/trends/causes` (all, and of extension `hdr`).
fn check_counts(farm: &Farm) {
    let want: Vec<(String, i64)> = [
        ("missing_extension_dependency", 1),
        ("missing_header", 1),
        ("no_member", 1),
        ("server_crash", 1),
        ("unknown", 1),
    ]
    .iter()
    .map(|(cause, n)| ((*cause).to_owned(), *n))
    .collect();
    let stats = farm.get("/api/v1/stats").json();
    assert_eq!(pairs(&stats["causes"]), want, "{stats}");
    let trends = farm.get("/api/v1/trends/causes?days=2").json();
    let mut got = pairs(&trends);
    got.sort();
    assert_eq!(got, want, "{trends}");
    assert!(trends[0]["day"].as_str().is_some_and(|day| day.len() == 10), "{trends}");
    assert_eq!(trends[0]["pg_major"], 15, "{trends}");
    let hdr = farm.get("/api/v1/trends/causes?days=2&extension=hdr").json();
    let mut got = pairs(&hdr);
    got.sort();
    assert_eq!(got, [("missing_header".to_owned(), 1), ("no_member".to_owned(), 1)], "{hdr}");
    farm.get("/api/v1/trends/causes?days=0").expect_error(400, "malformed");
}

fn causes_are_stored_counted_and_filtered(backend: Backend) {
    let farm = backend.farm();
    let runs = runs();
    submit_all(&farm, &runs);
    check_runs(&farm, &runs);
    check_counts(&farm);

    // The failures list carries each failed run's cause; `cause` keeps one.
    let failures = farm.get("/api/v1/failures?days=1").json();
    let items = failures["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "failed runs (the build failures are `error`): {failures}");
    assert!(items.iter().all(|item| item["cause"].is_string()), "{failures}");
    let filtered = farm.get("/api/v1/failures?days=1&cause=missing_extension_dependency").json();
    let items = filtered["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{filtered}");
    assert_eq!(items[0]["uuid"], runs[2].0.run.id.to_string());
    assert!(items[0]["cause_line"].as_str().unwrap().contains("pgfarm_absent_dep"));
    let unknown = farm.get("/api/v1/failures?days=1&cause=unknown&extension=dep").json();
    assert_eq!(unknown["items"][0]["uuid"], runs[4].0.run.id.to_string(), "{unknown}");
    assert!(unknown["items"][0]["cause_line"].is_null(), "{unknown}");
    let none = farm.get("/api/v1/failures?days=1&cause=missing_header").json();
    assert_eq!(none["items"], serde_json::json!([]), "an `error` run is not a failure: {none}");
    let bad = farm.get("/api/v1/failures?days=1&cause=segfault");
    bad.expect_error(400, "malformed");
    let message = bad.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("`segfault`") && message.contains("server_crash"), "{message}");
    // The run list filters by cause too.
    let errors = farm.get("/api/v1/runs?cause=missing_header").json();
    assert_eq!(errors["items"].as_array().unwrap().len(), 1, "{errors}");
    assert_eq!(errors["items"][0]["status"], "error");
    farm.get("/api/v1/runs?cause=nope").expect_error(400, "malformed");
}

/// Takes the database back to before migration 0007: its columns, tables and indexes dropped
/// and its row in `_sqlx_migrations` deleted, so the runs look as a server before it stored them.
const UNDO_0007: &str = "
DROP INDEX runs_failures_cause;
DROP INDEX runs_cause_pending;
DROP TABLE daily_cause_counts;
DROP TABLE daily_extension_cause_counts;
ALTER TABLE runs DROP COLUMN cause;
ALTER TABLE runs DROP COLUMN cause_line;
DELETE FROM _sqlx_migrations WHERE version = 7;
";

fn runs_stored_before_the_migration_get_their_cause_at_start(backend: Backend) {
    let mut farm = backend.farm();
    let runs = runs();
    submit_all(&farm, &runs);
    let server = farm.server.take().expect("running");
    farm.runtime.block_on(server.shutdown());
    let url = farm.config.database_url.clone();
    farm.runtime.block_on(async {
        use sqlx::SqlSafeStr;
        let sql = sqlx::AssertSqlSafe(UNDO_0007.to_owned()).into_sql_str();
        if backend == Backend::Sqlite {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    });
    // Migration 0007 runs again, then the backfill reads the stored bundles.
    farm.restart();
    check_runs(&farm, &runs);
    check_counts(&farm);
    // A second start finds nothing to do and counts nothing twice.
    farm.restart();
    check_counts(&farm);
    let store = farm.server.as_ref().unwrap().state.store.clone();
    let max = farm.config.max_decompressed_bytes;
    let again = farm.runtime.block_on(pgfarm_server::causes::backfill(store.as_ref(), max));
    assert_eq!(again.unwrap(), 0);
}

common::on_both_backends! {
    causes_are_stored_counted_and_filtered,
    runs_stored_before_the_migration_get_their_cause_at_start,
}

#[test]
fn a_stored_bundle_that_no_longer_decodes_has_cause_unknown() {
    let cause = pgfarm_server::causes::stored_run_cause(b"not a bundle", "failed", 1 << 20);
    assert_eq!((cause.cause.as_str(), cause.line), ("unknown", None));
    let bundle = failing_at(StageKind::Build, &fixture("undefined_reference"), "x");
    let cause = pgfarm_server::causes::stored_run_cause(&bundle.to_gzip_vec(), "error", 1 << 20);
    assert_eq!(cause.cause, "undefined_reference");
    assert!(cause.line.unwrap().contains("not_defined_anywhere"));
}
