//! The sample bundles of testdata/bundles/: built here from real outputs of the shared corpus,
//! compared with the committed files (golden), and read back through the public reader.

use pgfarm_model::{
    Bundle, ExpectedOutput, Extension, Machine, OffsetDateTime, OrderedMap, Postgres, RawText,
    RegressTest, Run, RunConfig, RunStatus, Source, SourceKind, Stage, StageKind, StageStatus,
    TapFile, TestStatus, Uuid,
};
use time::macros::datetime;

use crate::{check_golden, corpus_file, corpus_text, repo_root};

/// A sample's file name and the function that builds it.
pub(crate) type Sample = (&'static str, fn() -> Bundle);

/// Every sample (testdata/bundles/README.md says what each shows).
pub(crate) const SAMPLES: &[Sample] = &[
    ("pass.pgfarm.json", pass),
    ("regress-fail.pgfarm.json", regress_fail),
    ("tap-fail.pgfarm.json", tap_fail),
    ("hostile.pgfarm.json", hostile),
];

/// All sample bundles as committed, with their file names.
pub(crate) fn committed_samples() -> Vec<(String, Vec<u8>)> {
    let dir = repo_root().join("testdata/bundles");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.file_name().is_some_and(|n| n.to_string_lossy().contains(".pgfarm.json"))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
            (path.file_name().expect("a file name").to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

fn t(at: OffsetDateTime, plus_ms: i64) -> OffsetDateTime {
    at + time::Duration::milliseconds(plus_ms)
}

const START: OffsetDateTime = datetime!(2026-11-22 03:36:06 UTC);

fn base(id: u128, extension: Extension, status: RunStatus, duration_ms: i64) -> Bundle {
    let pg_config: OrderedMap = [
        ("BINDIR", "/usr/lib/postgresql/15/bin"),
        ("DOCDIR", "/usr/share/doc/postgresql-doc-15"),
        ("INCLUDEDIR-SERVER", "/usr/include/postgresql/15/server"),
        ("LIBDIR", "/usr/lib/x86_64-linux-gnu"),
        ("PKGLIBDIR", "/usr/lib/postgresql/15/lib"),
        ("SHAREDIR", "/usr/share/postgresql/15"),
        ("PGXS", "/usr/lib/postgresql/15/lib/pgxs/src/makefiles/pgxs.mk"),
        ("CONFIGURE", "'--build=x86_64-linux-gnu' '--prefix=/usr' '--with-icu' '--with-openssl' '--enable-tap-tests'"),
        ("CC", "gcc"),
        ("CFLAGS", "-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"),
        ("VERSION", "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)"),
    ]
    .into_iter()
    .collect();
    let mut bundle = Bundle::new(
        Run {
            id: Uuid::from_u128(id),
            created_at: START,
            finished_at: t(START, duration_ms),
            status,
            runner_version: "0.1.0".to_owned(),
        },
        Machine {
            name: "bookworm-x86".to_owned(),
            os: "linux".to_owned(),
            os_version: "Debian GNU/Linux 12 (bookworm)".to_owned(),
            arch: "x86_64".to_owned(),
            compiler: "gcc (Debian 12.2.0-14) 12.2.0".to_owned(),
            hostname: None,
        },
        extension,
        Postgres {
            version: "15.18".to_owned(),
            major: 15,
            minor: Some(18),
            pg_config,
            configure_flags: [
                "--build=x86_64-linux-gnu",
                "--prefix=/usr",
                "--with-icu",
                "--with-openssl",
                "--enable-tap-tests",
            ]
            .map(str::to_owned)
            .to_vec(),
        },
        RunConfig {
            command_line: ["pgfarm", "test", "--pg", "15", "."].map(str::to_owned).to_vec(),
            settings: [("jobs", "2"), ("test_timeout_s", "300")].into_iter().collect(),
            server_settings: [("max_connections", "20"), ("fsync", "off")].into_iter().collect(),
        },
    );
    bundle.server_log = RawText::from(
        "2026-11-22 03:36:06.100 UTC [41235] LOG:  database system is ready to accept connections\n",
    );
    bundle
}

fn stage(
    kind: StageKind,
    status: StageStatus,
    start_ms: i64,
    duration_ms: u64,
    log: &str,
) -> Stage {
    Stage {
        kind,
        status,
        started_at: Some(t(START, start_ms)),
        duration_ms,
        log: RawText::from(log),
        error: None,
    }
}

fn tiny_extension() -> Extension {
    Extension {
        name: "tiny".to_owned(),
        version: "1.0.0".to_owned(),
        git_ref: Some("main".to_owned()),
        git_commit: Some("6ca7aec6d7e9ddca05fcecba3ac9132a446e2511".to_owned()),
        source: Some(Source::new(SourceKind::Path, "./tiny")),
        prerequisites: Some(
            [(
                "runtime".to_owned(),
                [("requires".to_owned(), [("PostgreSQL".to_owned(), "13.0.0".to_owned())].into())]
                    .into(),
            )]
            .into(),
        ),
    }
}

fn expected(name: &str) -> ExpectedOutput {
    ExpectedOutput {
        file_name: name.to_owned(),
        content: RawText::from(corpus_text(&format!(
            "regress/format-samples/suite/expected/{name}"
        ))),
    }
}

/// A passing regression test whose output equals its expected file.
fn regress_ok(name: &str, group: u32, duration_ms: u64) -> RegressTest {
    let expected = expected(&format!("{name}.out"));
    RegressTest {
        name: name.to_owned(),
        group,
        status: TestStatus::Ok,
        duration_ms,
        actual: expected.content.clone(),
        chosen_expected: Some(expected.file_name.clone()),
        reason: None,
        expected: vec![expected],
        psql_exit_code: Some(0),
    }
}

fn front_stages(bundle: &mut Bundle) {
    bundle.stages = vec![
        stage(StageKind::Build, StageStatus::Ok, 0, 10, "make: Nothing to be done for 'all'.\n"),
        stage(
            StageKind::Install,
            StageStatus::Ok,
            10,
            90,
            "/usr/bin/install -c -m 644 .//tiny.control '/usr/share/postgresql/15/extension/'\n",
        ),
        stage(
            StageKind::Cluster,
            StageStatus::Ok,
            100,
            700,
            "initdb: cached data directory copied\nwaiting for server to start.... done\n",
        ),
        stage(StageKind::Load, StageStatus::Ok, 800, 70, "CREATE EXTENSION\n"),
    ];
}

fn tap_file(name: &str, status: TestStatus, duration_ms: u64) -> TapFile {
    let exit_code = corpus_text(&format!("tap/pgtap/tap/{name}.exitcode"));
    TapFile {
        path: format!("test/sql/{name}.sql"),
        status,
        duration_ms,
        exit_code: Some(exit_code.trim().parse().expect("exit code file holds a number")),
        stream: RawText::from_bytes(corpus_file(&format!("tap/pgtap/tap/{name}.tap"))),
        stderr: RawText::from_bytes(corpus_file(&format!("tap/pgtap/tap/{name}.stderr"))),
    }
}

/// A run where every stage passes: two regression tests and one TAP file.
fn pass() -> Bundle {
    let mut bundle =
        base(0x0196_0000_0000_7000_8000_0000_0000_0001, tiny_extension(), RunStatus::Ok, 1400);
    front_stages(&mut bundle);
    bundle.regress = vec![regress_ok("one", 0, 64), regress_ok("two", 1, 16)];
    bundle.stages.push(stage(
        StageKind::Regress,
        StageStatus::Ok,
        870,
        180,
        "test one                          ... ok           64 ms\ntest two                          ... ok           16 ms\n\n=====================\n All 2 tests passed. \n=====================\n\n",
    ));
    bundle.tap = vec![tap_file("03-skip-todo-diag", TestStatus::Ok, 35)];
    bundle.stages.push(stage(
        StageKind::Tap,
        StageStatus::Ok,
        1050,
        40,
        "test/sql/03-skip-todo-diag.sql .. ok\nAll tests successful.\n",
    ));
    bundle.stages.push(Stage {
        error: Some("the extension has no older versions".to_owned()),
        ..Stage::new(StageKind::Upgrade, StageStatus::Missing, 0)
    });
    bundle
}

/// pg_regress with a parallel group where `three` fails against both of its expected variants,
/// and `one` run twice (schedule and positional argument), as in the real run of
/// corpus/regress/format-samples/pg15 whose console output is the stage log.
fn regress_fail() -> Bundle {
    let mut bundle =
        base(0x0196_0000_0000_7000_8000_0000_0000_0002, tiny_extension(), RunStatus::Failed, 1300);
    front_stages(&mut bundle);
    let three_expected = [expected("three.out"), expected("three_1.out")];
    // The actual output, as the captured regression.diffs shows it: 3 where the file says 4.
    let three_actual = three_expected[0].content.to_string_lossy().replace("     4\n", "     3\n");
    bundle.regress = vec![
        regress_ok("one", 0, 64),
        regress_ok("two", 1, 16),
        RegressTest {
            name: "three".to_owned(),
            group: 1,
            status: TestStatus::Failed,
            duration_ms: 40,
            actual: RawText::from(three_actual),
            expected: three_expected.to_vec(),
            psql_exit_code: Some(0),
            chosen_expected: Some("three.out".to_owned()),
            reason: None,
        },
        // The schedule runs `one`, and so does the positional argument: pg_regress runs it twice.
        regress_ok("one", 2, 40),
    ];
    let console = corpus_text("regress/format-samples/pg15/stdout.txt");
    bundle.stages.push(Stage {
        error: Some("pg_regress: 1 of 4 tests failed".to_owned()),
        ..stage(StageKind::Regress, StageStatus::Failed, 870, 190, &console)
    });
    bundle.stages.push(Stage {
        error: Some("regress failed".to_owned()),
        ..Stage::new(StageKind::Tap, StageStatus::Skipped, 0)
    });
    bundle.stages.push(Stage {
        error: Some("regress failed".to_owned()),
        ..Stage::new(StageKind::Upgrade, StageStatus::Skipped, 0)
    });
    bundle.server_log = RawText::from(
        "2026-11-22 03:36:06.100 UTC [41235] LOG:  database system is ready to accept connections\n\
         2026-11-22 03:36:07.250 UTC [41301] ERROR:  relation \"missing\" does not exist at character 15\n",
    );
    bundle
}

/// pgTAP files: one with failing assertions, one that dies midway (psql exit 3), one passing,
/// one with Unicode and TAP-lookalike descriptions; no regression tests (stage `missing`).
fn tap_fail() -> Bundle {
    let extension = Extension {
        name: "pgtap_samples".to_owned(),
        version: "0.1.0".to_owned(),
        git_ref: None,
        git_commit: None,
        source: Some(Source::new(SourceKind::Pgxn, "pgtap_samples/0.1.0")),
        prerequisites: None,
    };
    let mut bundle =
        base(0x0196_0000_0000_7000_8000_0000_0000_0003, extension, RunStatus::Failed, 2000);
    front_stages(&mut bundle);
    bundle.stages.push(Stage {
        error: Some("no REGRESS tests".to_owned()),
        ..Stage::new(StageKind::Regress, StageStatus::Missing, 0)
    });
    bundle.tap = vec![
        tap_file("01-basic-pass-fail", TestStatus::Failed, 51),
        tap_file("03-skip-todo-diag", TestStatus::Ok, 35),
        tap_file("08-special-chars", TestStatus::Failed, 22),
        tap_file("09-died-midway", TestStatus::Error, 18),
    ];
    bundle.stages.push(Stage {
        error: Some("3 of 4 TAP files failed".to_owned()),
        ..stage(
            StageKind::Tap,
            StageStatus::Failed,
            870,
            900,
            &corpus_text("tap/pgtap/pg_prove-summary.txt"),
        )
    });
    bundle
}

/// Markup and script payloads in every free-text field, plus a non-UTF-8 output: the browser's
/// XSS tests render it and must show the payloads as text.
fn hostile() -> Bundle {
    const XSS: &str = r#"<script>alert("xss")</script><img src=x onerror=alert(1)>"><svg onload=alert(2)>javascript:alert(3)&amp;&lt;{{7*7}}${7*7}"#;
    let x = |prefix: &str| format!("{prefix}{XSS}");
    let mut bundle = base(
        0x0196_0000_0000_7000_8000_0000_0000_0004,
        Extension {
            name: x("ext"),
            version: x("1.0.0"),
            git_ref: Some(x("refs/heads/")),
            git_commit: Some("deadbeef".to_owned()),
            source: Some(Source::new(SourceKind::Git, x("javascript:alert(4)//"))),
            prerequisites: Some(
                [(x("runtime"), [(x("requires"), [(x("PostgreSQL"), x("13"))].into())].into())]
                    .into(),
            ),
        },
        RunStatus::Failed,
        5000,
    );
    bundle.run.runner_version = x("0.1.0");
    bundle.machine = Machine {
        name: x("m"),
        os: x("linux"),
        os_version: x("Debian"),
        arch: x("x86_64"),
        compiler: x("gcc"),
        hostname: Some(x("host")),
    };
    bundle.postgres.version = x("15.18");
    bundle.postgres.pg_config =
        [(x("BINDIR"), x("/usr/bin")), ("VERSION".to_owned(), x("PostgreSQL 15.18 "))]
            .into_iter()
            .collect();
    bundle.postgres.configure_flags = vec![x("--prefix=")];
    bundle.config = RunConfig {
        command_line: vec!["pgfarm".to_owned(), x("--name=")],
        settings: [(x("key"), x("value"))].into_iter().collect(),
        server_settings: [(x("guc"), x("on"))].into_iter().collect(),
    };
    bundle.stages = StageKind::ALL
        .iter()
        .enumerate()
        .map(|(idx, &kind)| {
            let status = match kind {
                StageKind::Regress | StageKind::Tap => StageStatus::Failed,
                _ => StageStatus::Ok,
            };
            Stage {
                kind,
                status,
                started_at: Some(t(START, 100 * idx as i64)),
                duration_ms: 100,
                log: RawText::from(format!("ERROR: {XSS}\nWARNING: {XSS}\n")),
                error: (status == StageStatus::Failed).then(|| x("failed: ")),
            }
        })
        .collect();
    bundle.regress = vec![RegressTest {
        name: x("t"),
        group: 0,
        status: TestStatus::Failed,
        duration_ms: 10,
        actual: RawText::from(format!(
            "SELECT '{XSS}';\n ?column? \n----------\n {XSS}\n(1 row)\n\n"
        )),
        expected: vec![ExpectedOutput {
            file_name: x("t.out"),
            content: RawText::from(format!("-- {XSS}\n")),
        }],
        psql_exit_code: Some(0),
        chosen_expected: Some(x("t.out")),
        reason: None,
    }];
    bundle.tap = vec![TapFile {
        path: x("test/sql/"),
        status: TestStatus::Failed,
        duration_ms: 10,
        exit_code: Some(0),
        stream: RawText::from(format!(
            "1..2\nok 1 - {XSS}\nnot ok 2 - {XSS} # TODO {XSS}\n# {XSS}\n  ---\n  message: '{XSS}'\n  ...\n"
        )),
        // Latin-1 bytes (not UTF-8) around the payload: travels as base64 and must still be
        // shown as text (lossily) without being interpreted as markup.
        stderr: RawText::from_bytes(
            [b"caf\xe9 ".as_slice(), XSS.as_bytes(), b" \xff\xfe\n"].concat(),
        ),
    }];
    bundle.server_log = RawText::from(format!("LOG:  {XSS}\n"));
    bundle
}

#[test]
fn committed_samples_equal_what_the_builders_make() {
    for (file_name, build) in SAMPLES {
        let bundle = build();
        bundle.validate().unwrap_or_else(|err| panic!("sample {file_name} is invalid: {err}"));
        let mut json = Vec::new();
        bundle.write_json_pretty(&mut json).expect("writing into a Vec");
        json.push(b'\n');
        let json = String::from_utf8(json).expect("bundle JSON is UTF-8");
        check_golden(&repo_root().join("testdata/bundles").join(file_name), &json);
    }
    // The gzip sample is the pass sample compressed: the reader's gzip path on a committed file.
    let gz_path = repo_root().join("testdata/bundles/pass.pgfarm.json.gz");
    let gz_bundle = std::fs::read(&gz_path).ok().and_then(|bytes| Bundle::from_slice(&bytes).ok());
    if gz_bundle.as_ref() != Some(&pass()) {
        assert!(
            crate::update_expect() || gz_bundle.is_none() && !gz_path.exists(),
            "{} differs from pass.pgfarm.json; rerun with UPDATE_EXPECT=1",
            gz_path.display()
        );
        std::fs::write(&gz_path, pass().to_gzip_vec()).expect("writing the gzip sample");
    }
}

#[test]
fn every_committed_sample_reads_and_validates() {
    let samples = committed_samples();
    assert!(
        samples.len() >= 5,
        "expected the 5 samples in testdata/bundles, found {}",
        samples.len()
    );
    for (file_name, bytes) in samples {
        let bundle = Bundle::from_slice(&bytes).unwrap_or_else(|err| panic!("{file_name}: {err}"));
        // The writer and the reader agree byte for byte on the pretty form.
        if !file_name.ends_with(".gz") {
            let mut again = Vec::new();
            bundle.write_json_pretty(&mut again).unwrap();
            again.push(b'\n');
            assert!(again == bytes, "{file_name}: re-writing the bundle changed it");
        }
    }
}

#[test]
fn every_sample_is_described_in_the_readme() {
    let readme = std::fs::read_to_string(repo_root().join("testdata/bundles/README.md"))
        .expect("testdata/bundles/README.md");
    for (file_name, _) in committed_samples() {
        assert!(
            readme.contains(&format!("`{file_name}`")),
            "testdata/bundles/README.md does not describe {file_name}"
        );
    }
}

#[test]
fn failed_regress_sample_points_at_the_regress_stage_and_test_three() {
    let bundle = regress_fail();
    assert_eq!(bundle.first_failed_stage().map(|s| s.kind), Some(StageKind::Regress));
    assert_eq!(bundle.worst_stage_status(), Some(StageStatus::Failed));
    let failed: Vec<_> = bundle.failed_regress_tests().map(|t| t.name.as_str()).collect();
    assert_eq!(failed, ["three"]);
    let three = &bundle.regress[2];
    assert_eq!(three.chosen().map(|e| e.file_name.as_str()), Some("three.out"));
    assert!(three.actual.as_str().is_some_and(|a| a.contains("     3\n")));
}

#[test]
fn tap_sample_keeps_the_stderr_of_the_file_that_died() {
    let bundle = tap_fail();
    let died = bundle
        .tap
        .iter()
        .find(|f| f.path.ends_with("09-died-midway.sql"))
        .expect("the died-midway file");
    assert_eq!(died.exit_code, Some(3));
    assert!(died.stderr.to_string_lossy().contains("ERROR:  division by zero"));
    assert_eq!(bundle.failed_tap_files().count(), 3);
    assert_eq!(bundle.stage(StageKind::Regress).map(|s| s.status), Some(StageStatus::Missing));
}

#[test]
fn hostile_sample_keeps_its_non_utf8_bytes() {
    let bundle = Bundle::from_slice(&hostile().to_gzip_vec()).expect("hostile sample reads");
    let stderr = &bundle.tap[0].stderr;
    assert!(!stderr.is_utf8());
    assert!(stderr.as_bytes().starts_with(b"caf\xe9 <script>"));
    assert!(stderr.as_bytes().ends_with(b" \xff\xfe\n"));
}
