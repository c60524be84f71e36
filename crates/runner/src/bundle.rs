//! Building result bundles (`pgfarm_model::Bundle`) from runner reports, and writing them
//! atomically as gzip files.

use std::path::Path;
use std::time::Duration;

use pgfarm_model::{
    Bundle, ExpectedOutput, Extension, Machine, OrderedMap, Postgres, RawText, RegressTest, Run,
    RunConfig, RunStatus, Stage, StageKind, StageStatus, TapFile, TestStatus,
};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::process::Spawn;
use crate::regress::{RegressOptions, RegressReport, TestStatus as RegressStatus};

/// The runner version written into bundles.
pub const RUNNER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The machine this runs on: name from `PGFARM_MACHINE` (else the host name), OS release from
/// `/etc/os-release`, compiler from `cc --version`. Computed once per process.
pub fn machine() -> Machine {
    static MACHINE: std::sync::OnceLock<Machine> = std::sync::OnceLock::new();
    MACHINE.get_or_init(detect_machine).clone()
}

fn detect_machine() -> Machine {
    let hostname = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    let name = std::env::var("PGFARM_MACHINE")
        .ok()
        .or_else(|| hostname.clone())
        .unwrap_or_else(|| "local".into());
    let os_version = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let compiler = Spawn::new("cc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|(status, out, _)| {
            status.success().then(|| out.lines().next().unwrap_or("").to_owned())
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into());
    Machine {
        name,
        os: std::env::consts::OS.into(),
        os_version,
        arch: std::env::consts::ARCH.into(),
        compiler,
        hostname: None,
    }
}

/// Reads `pg_config`'s output into the bundle's `Postgres`.
pub fn postgres_from_pg_config(pg_config: &Path) -> Result<Postgres> {
    let (stdout, _) = Spawn::new(pg_config).output_ok()?;
    postgres_from_pg_config_output(&stdout).ok_or_else(|| Error::Config {
        path: pg_config.to_path_buf(),
        message: "no VERSION line with a major version in pg_config output".into(),
    })
}

/// Parses `pg_config` output (`NAME = value` lines).
pub fn postgres_from_pg_config_output(text: &str) -> Option<Postgres> {
    let mut map = OrderedMap::new();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(" = ") {
            map.insert(key.trim(), value.trim());
        }
    }
    let version = map.get("VERSION")?.trim_start_matches("PostgreSQL ").to_owned();
    let version = version.split_whitespace().next()?.to_owned();
    let (major, minor) = Postgres::split_version(&version)?;
    let configure_flags = map.get("CONFIGURE").map(split_configure).unwrap_or_default();
    Some(Postgres { version, major, minor, pg_config: map, configure_flags })
}

/// Splits pg_config's `CONFIGURE` line (`'--prefix=/usr' '--with-openssl'`) into flags.
fn split_configure(line: &str) -> Vec<String> {
    line.split('\'')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Converts a regress report into the bundle's per-test records.
pub fn regress_tests(report: &RegressReport) -> Vec<RegressTest> {
    report
        .tests
        .iter()
        .map(|test| RegressTest {
            name: test.name.clone(),
            group: test.group,
            status: match test.status {
                RegressStatus::Passed => TestStatus::Ok,
                RegressStatus::Failed => TestStatus::Failed,
                RegressStatus::FailedIgnored => TestStatus::Ignored,
                RegressStatus::TimedOut => TestStatus::Timeout,
            },
            duration_ms: test.millis.round() as u64,
            actual: RawText::from(test.actual.clone()),
            expected: test
                .expected
                .iter()
                .map(|e| ExpectedOutput {
                    file_name: file_name(&e.path),
                    content: RawText::from(e.text.clone()),
                })
                .collect(),
            psql_exit_code: match &test.child_failure {
                None => Some(0),
                Some(crate::regress::ChildFailure::Exit(code)) => Some(*code),
                Some(_) => None,
            },
            chosen_expected: test
                .chosen
                .and_then(|i| test.expected.get(i))
                .map(|e| file_name(&e.path)),
            reason: test.reason.clone(),
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A stage record.
pub fn stage(
    kind: StageKind,
    status: StageStatus,
    started_at: OffsetDateTime,
    duration: Duration,
    log: String,
    error: Option<String>,
) -> Stage {
    Stage {
        kind,
        status,
        started_at: Some(started_at),
        duration_ms: duration.as_millis() as u64,
        log: RawText::from(log),
        error,
    }
}

/// The TAP file records of a `prove` run: raw stream, stderr, exit code and verdict per file.
pub fn tap_files(report: &crate::prove::ProveReport) -> Vec<TapFile> {
    report
        .files
        .iter()
        .map(|f| {
            let status = if f.passed {
                TestStatus::Ok
            } else if f.timed_out {
                TestStatus::Timeout
            } else {
                TestStatus::Failed
            };
            tap_file(
                f.name.clone(),
                status,
                f.duration,
                f.exit_code,
                f.stdout.clone(),
                f.stderr.clone(),
            )
        })
        .collect()
}

/// A TAP file record.
pub fn tap_file(
    path: String,
    status: TestStatus,
    duration: Duration,
    exit_code: Option<i32>,
    stream: String,
    stderr: String,
) -> TapFile {
    TapFile {
        path,
        status,
        duration_ms: duration.as_millis() as u64,
        exit_code,
        stream: RawText::from(stream),
        stderr: RawText::from(stderr),
    }
}

/// A new run record starting at `created_at`, finishing now.
pub fn run_record(created_at: OffsetDateTime, status: RunStatus) -> Run {
    let finished_at = OffsetDateTime::now_utc().max(created_at);
    Run {
        id: uuid::Uuid::new_v4(),
        created_at,
        finished_at,
        status,
        runner_version: RUNNER_VERSION.into(),
    }
}

/// The command line as the bundle records it.
pub fn command_line() -> Vec<String> {
    std::env::args().collect()
}

/// Validates a bundle, then writes it as gzip JSON, atomically (temp file + rename).
pub fn write_bundle(path: &Path, bundle: &Bundle) -> Result<()> {
    // Validate first: an invalid bundle would be refused by the server and the offline viewer,
    // and `to_gzip_vec` relies on validated timestamps.
    bundle
        .validate()
        .map_err(|source| Error::InvalidBundle { path: path.to_path_buf(), source })?;
    crate::report::write_atomic(path, &bundle.to_gzip_vec())
}

/// The run of `pgfarm regress` or `pgfarm prove` as model records: one stage and its tests, what
/// its JUnit file, its exit code (both through `pgfarm-verdict`) and its `--bundle` are made of.
#[derive(Debug, Clone)]
pub struct CommandRun {
    /// `interrupted` when a signal stopped it, else `ok` (the verdict decides the rest).
    pub reported: RunStatus,
    /// The `regress` or `tap` stage.
    pub stage: Stage,
    /// The pg_regress tests (`pgfarm regress`).
    pub regress: Vec<RegressTest>,
    /// The pgTAP files (`pgfarm prove`).
    pub tap: Vec<TapFile>,
    /// When it started.
    pub started: OffsetDateTime,
    /// Tests the selection left out.
    pub deselected: Vec<pgfarm_model::TestRef>,
    /// Tests `--fail-fast` kept from starting.
    pub not_run: Vec<pgfarm_model::TestRef>,
}

impl CommandRun {
    /// The parts the verdict reads.
    pub fn parts(&self) -> pgfarm_verdict::RunParts<'_> {
        pgfarm_verdict::RunParts {
            reported: self.reported,
            stages: std::slice::from_ref(&self.stage),
            regress: &self.regress,
            isolation: &[],
            tap: &self.tap,
            perl_tap: &[],
        }
    }

    /// The verdict over it.
    pub fn verdict(&self) -> pgfarm_verdict::Verdict {
        pgfarm_verdict::derive_parts(self.parts())
    }
}

/// `pgfarm regress`'s run: one `regress` stage (failed with the reason when the tests could not
/// be run) and every test.
pub fn regress_run(report: &RegressReport) -> CommandRun {
    let finished = OffsetDateTime::now_utc();
    let started = finished - report.duration;
    let interrupted = report.bail.as_deref() == Some("interrupted");
    let (status, error) = if report.bail.is_some() {
        (StageStatus::Failed, report.bail.clone())
    } else if report.tests.is_empty() && !report.deselected.is_empty() {
        (StageStatus::Skipped, Some("no test selected".to_owned()))
    } else {
        (StageStatus::Ok, None)
    };
    let test_ref = |name: &String| pgfarm_model::TestRef::new(StageKind::Regress, name);
    CommandRun {
        reported: if interrupted { RunStatus::Interrupted } else { RunStatus::Ok },
        stage: stage(StageKind::Regress, status, started, report.duration, String::new(), error),
        regress: regress_tests(report),
        tap: Vec::new(),
        started,
        deselected: report.deselected.iter().map(test_ref).collect(),
        not_run: report.not_run.iter().map(test_ref).collect(),
    }
}

/// `pgfarm prove`'s run: one `tap` stage with prove's summary as its log, and every file.
pub fn prove_run(report: &crate::prove::ProveReport) -> CommandRun {
    let finished = OffsetDateTime::now_utc();
    let started = finished - report.duration;
    let (status, error) = if let Some(error) = &report.step_error {
        (StageStatus::Failed, Some(error.clone()))
    } else if report.files.is_empty() && !report.deselected.is_empty() {
        (StageStatus::Skipped, Some("no file selected".to_owned()))
    } else {
        (StageStatus::Ok, None)
    };
    let test_ref = |name: &String| pgfarm_model::TestRef::new(StageKind::Tap, name);
    CommandRun {
        reported: if report.interrupted { RunStatus::Interrupted } else { RunStatus::Ok },
        stage: stage(
            StageKind::Tap,
            status,
            started,
            report.duration,
            crate::prove::render_summary(report, false),
            error,
        ),
        regress: Vec::new(),
        tap: tap_files(report),
        started,
        deselected: report.deselected.iter().map(test_ref).collect(),
        not_run: report.not_run.iter().map(test_ref).collect(),
    }
}

/// Writes a command's run as a bundle (statuses judged by `pgfarm-verdict`): the PostgreSQL
/// version from `pg_config`, the extension `name`, version `unknown`.
fn write_command_bundle(
    path: &Path,
    run: &CommandRun,
    pg_config: &Path,
    name: String,
    jobs: usize,
    selection: &crate::select::Selection,
    fail_fast: bool,
) -> Result<()> {
    let postgres = postgres_from_pg_config(pg_config)?;
    let extension = Extension {
        name,
        version: "unknown".into(),
        git_ref: None,
        git_commit: None,
        source: None,
        prerequisites: None,
    };
    let mut config = RunConfig { command_line: command_line(), ..RunConfig::default() };
    config.settings.insert("jobs", jobs.to_string());
    let mut bundle =
        Bundle::new(run_record(run.started, run.reported), machine(), extension, postgres, config);
    bundle.stages.push(run.stage.clone());
    bundle.regress = run.regress.clone();
    bundle.tap = run.tap.clone();
    bundle.selection = selection.record(fail_fast, run.deselected.clone(), run.not_run.clone());
    pgfarm_verdict::judge(&mut bundle);
    write_bundle(path, &bundle)
}

/// `pgfarm regress --bundle`: a bundle with one `regress` stage. The PostgreSQL version comes
/// from `pg_config` next to psql (or on PATH); the extension is the first `--load-extension`
/// (else the input directory's name), version `unknown`.
pub fn write_regress_bundle(path: &Path, options: &RegressOptions, run: &CommandRun) -> Result<()> {
    let pg_config =
        options.bindir.as_ref().map(|b| b.join("pg_config")).unwrap_or_else(|| "pg_config".into());
    let name = options.load_extensions.first().cloned().unwrap_or_else(|| {
        std::fs::canonicalize(&options.inputdir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "unknown".into())
    });
    let fail_fast = options.fail_fast.is_enabled();
    write_command_bundle(path, run, &pg_config, name, options.jobs, &options.selection, fail_fast)
}

/// `pgfarm prove --bundle`: a bundle with one `tap` stage and every file's raw TAP stream.
/// The PostgreSQL version comes from `pg_config` next to the psql used (or on PATH); the
/// extension is named after the current directory, version `unknown`.
pub fn write_prove_bundle(
    path: &Path,
    options: &crate::prove::ProveOptions,
    run: &CommandRun,
) -> Result<()> {
    let pg_config = options
        .psql
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join("pg_config"))
        .unwrap_or_else(|| "pg_config".into());
    let name = std::env::current_dir()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into());
    let fail_fast = options.fail_fast.is_enabled();
    write_command_bundle(path, run, &pg_config, name, options.jobs, &options.selection, fail_fast)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_config_output_gives_version_and_flags() {
        let text = "BINDIR = /usr/lib/postgresql/15/bin\nCONFIGURE =  '--prefix=/usr' '--with-icu' \nVERSION = PostgreSQL 15.18 (Debian 15.18-0+deb12u1)\n";
        let pg = postgres_from_pg_config_output(text).unwrap();
        assert_eq!((pg.version.as_str(), pg.major, pg.minor), ("15.18", 15, Some(18)));
        assert_eq!(pg.configure_flags, ["--prefix=/usr", "--with-icu"]);
        assert_eq!(pg.pg_config.get("BINDIR"), Some("/usr/lib/postgresql/15/bin"));
    }

    #[test]
    fn an_invalid_bundle_is_refused_and_nothing_is_written() {
        let text = "VERSION = PostgreSQL 15.18\n";
        let postgres = postgres_from_pg_config_output(text).unwrap();
        let extension = Extension {
            name: String::new(), // breaks the format: names must not be empty
            version: "1.0".into(),
            git_ref: None,
            git_commit: None,
            source: None,
            prerequisites: None,
        };
        let bundle = Bundle::new(
            run_record(OffsetDateTime::now_utc(), RunStatus::Ok),
            machine(),
            extension,
            postgres,
            RunConfig::default(),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pgfarm.json.gz");
        let err = write_bundle(&path, &bundle).unwrap_err();
        assert!(matches!(err, Error::InvalidBundle { .. }), "{err}");
        assert!(err.to_string().contains("extension.name"), "{err}");
        assert!(!path.exists(), "an invalid bundle must not be written");
    }
}
