//! The layers agree: for each sample bundle (testdata/bundles, and bundles of the sample
//! extensions in testdata/extensions run by the farm on the newest installation), the run page
//! (pgfarm-web's `RunView`, rendered), what the server stores and answers (run detail, matrix
//! cell, badge), the JUnit report (pgfarm-runner's `report::run_suite`) and the exit code
//! (`pgfarm_verdict::exit_code`) say the same thing. Each layer calls pgfarm-verdict; this test
//! catches a layer that stops doing so.

mod common;

use std::sync::Arc;

use common::Farm;
use leptos::prelude::*;
use pgfarm_model::{Bundle, RunStatus, TestStatus, api};
use pgfarm_runner::report;
use pgfarm_verdict::{CellWord, Exit, JunitResult};

/// The samples: every bundle in testdata/bundles (version 1 ones included).
fn testdata_bundles() -> Vec<(String, Bundle)> {
    let mut out = Vec::new();
    for dir in ["", "v1"] {
        let dir = common::sample_path("").join(dir);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.to_string_lossy().ends_with(".pgfarm.json"))
            .collect();
        paths.sort();
        for path in paths {
            let bundle = Bundle::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            out.push((path.display().to_string(), bundle));
        }
    }
    assert!(out.len() >= 6, "testdata/bundles has {} samples", out.len());
    // Two runs no sample shows: one without tests ("missing tests") and a cluster that did not
    // start (a machine fault).
    let pass = out.iter().find(|(path, _)| path.ends_with("/pass.pgfarm.json")).unwrap().1.clone();
    let mut untested = pass.clone();
    untested.regress.clear();
    untested.tap.clear();
    let mut no_cluster = untested.clone();
    for stage in &mut no_cluster.stages {
        if stage.kind == pgfarm_model::StageKind::Cluster {
            stage.status = pgfarm_model::StageStatus::Failed;
        } else if stage.kind > pgfarm_model::StageKind::Cluster {
            stage.status = pgfarm_model::StageStatus::Skipped;
        }
    }
    no_cluster.run.status = RunStatus::Error;
    out.push(("pass.pgfarm.json without tests".into(), untested));
    out.push(("pass.pgfarm.json with a failed cluster".into(), no_cluster));
    out
}

/// Bundles of the sample extensions, run by the farm on the newest installation (none, with a
/// printed note, when there is no PostgreSQL).
fn sample_extension_bundles() -> Vec<(String, Bundle)> {
    let Ok(installation) = pgfarm_pgnode::Installation::newest() else {
        eprintln!("note: sample extensions skipped, no PostgreSQL installation");
        return Vec::new();
    };
    let root = common::sample_path("").join("../extensions");
    let mut out = Vec::new();
    for name in ["failing", "pure_sql", "tap_only", "upgrade"] {
        let dir = root.join(name);
        let source = pgfarm_runner::extension::ExtensionSource::discover(&dir).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let options = pgfarm_runner::farm::FarmOptions {
            source: dir.clone(),
            installations: vec![installation.clone()],
            jobs: 1,
            workdir: scratch.path().join("work"),
            out_dir: scratch.path().join("out"),
            timeout: Some(std::time::Duration::from_secs(120)),
            build_timeout: Some(std::time::Duration::from_secs(600)),
            settings: Vec::new(),
            locale: None,
            encoding: None,
            cancel: pgfarm_runner::process::CancelFlag::new(),
            selection: Default::default(),
            fail_fast: Default::default(),
            build_cache: false,
            coverage: false,
            keep: pgfarm_runner::farm::Keep::No,
            keep_idle: None,
            sandbox: None,
        };
        for result in pgfarm_runner::farm::run(&options, &source, &|_| {}) {
            out.push((format!("testdata/extensions/{name} on {}", result.label), result.bundle));
        }
    }
    out
}

/// The run page's header label and each test's `data-status`, from the rendered HTML.
fn run_page(bundle: &Bundle) -> (String, Vec<(String, String)>) {
    let bundle = Arc::new(bundle.clone());
    let html = Owner::new()
        .with(|| view! { <pgfarm_web::components::run_view::RunView bundle=bundle/> }.to_html());
    let attr = |text: &str, name: &str| -> Option<String> {
        let start = text.find(&format!("{name}=\""))? + name.len() + 2;
        Some(text[start..start + text[start..].find('"')?].to_owned())
    };
    let header = html.split("class=\"run-status\"").nth(1).expect("a run-status header");
    let label = header
        .split("badge-word\">")
        .nth(1)
        .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let mut tests = Vec::new();
    for marker in ["data-test=\"", "data-tap-file=\""] {
        for piece in html.split(marker).skip(1) {
            let piece = format!("{marker}{piece}");
            let name = attr(&piece, marker.trim_end_matches("=\"")).unwrap_or_default();
            let status = attr(&piece, "data-status").unwrap_or_default();
            tests.push((unescape(&name), status));
        }
    }
    (unescape(&label), tests)
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn run_page_server_badge_junit_and_exit_code_agree() {
    let mut samples = testdata_bundles();
    samples.extend(sample_extension_bundles());
    let farm = Farm::sqlite();
    let secret = farm.approved_machine("agree");
    for (idx, (origin, mut bundle)) in samples.into_iter().enumerate() {
        // One extension per sample, so its matrix cell and badge are its own.
        bundle.extension.name = format!("agree{idx}");
        bundle.machine.name = "agree".into();
        bundle.run.id = common::fresh_uuid();
        let verdict = pgfarm_verdict::derive(&bundle);
        let cell = verdict.run.cell();

        // The run page.
        let (page_label, page_tests) = run_page(&bundle);
        assert_eq!(page_label, cell.label, "{origin}: the run page's header");

        // The server: what it stores and answers.
        let answer = farm.submit("agree", &secret, &bundle.to_gzip_vec());
        assert_eq!(answer.status, 201, "{origin}: {}", answer.text());
        let detail: api::RunDetail =
            serde_json::from_slice(&farm.get(&format!("/api/v1/runs/{}", bundle.run.id)).body)
                .unwrap();
        let stored =
            pgfarm_verdict::cell(detail.run.status, detail.run.failed_stage, detail.run.tested);
        assert_eq!(stored, cell, "{origin}: stored run");
        let matrix: Vec<api::MatrixCell> = serde_json::from_slice(
            &farm.get(&format!("/api/v1/matrix?extension={}", bundle.extension.name)).body,
        )
        .unwrap();
        let matrix_cell = matrix
            .iter()
            .find(|c| c.extension == bundle.extension.name)
            .unwrap_or_else(|| panic!("{origin}: no matrix cell in {matrix:?}"));
        assert_eq!(
            pgfarm_verdict::cell(matrix_cell.status, matrix_cell.failed_stage, matrix_cell.tested),
            cell,
            "{origin}: matrix"
        );
        let badge = farm.get(&format!("/badge/{}.json", bundle.extension.name)).json();
        assert_eq!(badge["message"], pgfarm_verdict::badge([cell.word]).message, "{origin}: badge");

        // Tests: page, server, JUnit.
        let suite = report::run_suite(
            "run",
            pgfarm_verdict::RunParts::of(&bundle),
            report::Cases::TestsOnly,
        );
        // In order: the page lists regress tests, isolation specs, TAP and Perl TAP files as
        // the verdict does, and so does the suite.
        assert_eq!(page_tests.len(), verdict.tests.len(), "{origin}: tests on the page");
        assert_eq!(suite.cases.len(), verdict.tests.len(), "{origin}: JUnit cases");
        for ((derived, (shown_name, shown)), case) in
            verdict.tests.iter().zip(&page_tests).zip(&suite.cases)
        {
            assert_eq!(
                (shown_name, shown.as_str()),
                (&derived.name, derived.status.as_str()),
                "{origin}: page"
            );
            assert_eq!(
                case.outcome,
                pgfarm_verdict::junit_test(derived.status),
                "{origin}: JUnit {}",
                derived.name
            );
            // The server keeps one row per stage and name (a test run twice keeps one).
            let stored = detail
                .tests
                .iter()
                .find(|t| t.name == derived.name && t.stage == derived.stage)
                .unwrap_or_else(|| panic!("{origin}: {} not stored", derived.name));
            let once = verdict.tests.iter().filter(|t| t.name == derived.name).count() == 1;
            if once {
                assert_eq!(stored.status, derived.status, "{origin}: stored {}", derived.name);
            }
        }

        // The exit code says what the badge says.
        let exit = pgfarm_verdict::exit_code([&verdict.run], false);
        let expected_exit = match cell.word {
            CellWord::Ok => Exit::Ok,
            CellWord::Failed => Exit::Failed,
            CellWord::Error | CellWord::Interrupted => Exit::Error,
            CellWord::Missing => Exit::NothingTested,
        };
        assert_eq!(exit, expected_exit, "{origin}: exit code vs cell {cell:?}");
        let any_failure = suite.cases.iter().any(|case| case.outcome == JunitResult::Failure);
        if any_failure {
            assert_ne!(verdict.run.status, RunStatus::Ok, "{origin}: a JUnit failure in an ok run");
        }
        if verdict.run.status == RunStatus::Ok {
            assert!(
                detail
                    .tests
                    .iter()
                    .all(|t| !t.status.is_failure() || t.status == TestStatus::Ignored)
            );
        }
    }
}
