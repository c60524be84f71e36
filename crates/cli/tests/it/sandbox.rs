//! `pgfarm test --sandbox`: a sample extension passes inside the sandbox (build, staged install,
//! a sandboxed server, its tests), and extensions whose build reaches for the network (a listener
//! this test opens on the host's 127.0.0.1), writes outside its folder or forks without bound
//! fail their build stage with the sandbox's refusal named, while the run goes on and writes its
//! bundle.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binary under test and the peer tools it compares with"
)]

use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgfarm_model::{Bundle, RunStatus, StageKind, StageStatus};
use pgfarm_pgnode::Installation;

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

/// The newest installation with PGXS, or a named skip.
fn installation(test: &str) -> Option<Installation> {
    let found = Installation::discover()
        .into_iter()
        .filter(|i| i.has_pgxs() && i.major() >= 13)
        .max_by_key(Installation::major);
    let bwrap = Command::new("bwrap").arg("--version").output().is_ok_and(|o| o.status.success());
    if !pgfarm_testsupport::require(test, "bwrap (package bubblewrap, scripts/setup)", bwrap) {
        return None;
    }
    if found.is_none() {
        pgfarm_testsupport::require(test, "a PostgreSQL installation with PGXS", false);
    }
    found
}

/// A PGXS extension `name` 1.0 whose build also runs `step` (a make recipe line).
fn hostile_extension(root: &Path, name: &str, step: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.control")),
        format!("comment = '{name}'\ndefault_version = '1.0'\nrelocatable = true\n"),
    )
    .unwrap();
    std::fs::write(dir.join(format!("{name}--1.0.sql")), "select 1;\n").unwrap();
    std::fs::write(
        dir.join("Makefile"),
        format!(
            "EXTENSION = {name}\nDATA = {name}--1.0.sql\nPG_CONFIG ?= pg_config\n\
             PGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n\
             all: hostile-step\nhostile-step:\n\t{step}\n"
        ),
    )
    .unwrap();
    dir
}

fn sandboxed_test(source: &Path, work: &Path, installation: &Installation) -> (Output, Bundle) {
    let out = work.join("out");
    let output = Command::new(PGFARM)
        .args(["test", "--sandbox", "--plain", "--pg"])
        .arg(&installation.bindir)
        .arg("--out")
        .arg(&out)
        .arg("--workdir")
        .arg(work.join("work"))
        .arg(source)
        .output()
        .expect("pgfarm test runs");
    let bundle = std::fs::read_dir(&out)
        .unwrap_or_else(|e| panic!("no bundle folder ({e}): {}", show(&output)))
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".pgfarm.json.gz"))
        .map(|e| Bundle::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
        .unwrap_or_else(|| panic!("no bundle: {}", show(&output)));
    (output, bundle)
}

fn show(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The build stage's reason (it must have failed).
fn build_failure(bundle: &Bundle, output: &Output) -> String {
    let build = bundle.stages.iter().find(|s| s.kind == StageKind::Build).expect("build stage");
    assert_eq!(build.status, StageStatus::Failed, "{}", show(output));
    assert_eq!(output.status.code(), Some(2), "{}", show(output));
    build.error.clone().unwrap_or_default()
}

fn scratch() -> tempfile::TempDir {
    // Outside /tmp, which is private inside the sandbox; traversable by the server user.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn a_sample_extension_passes_in_the_sandbox() {
    let test = "a_sample_extension_passes_in_the_sandbox";
    let Some(installation) = installation(test) else { return };
    let dir = scratch();
    let source = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions"))
        .join("c_func");
    let (output, bundle) = sandboxed_test(&source, dir.path(), &installation);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert_eq!(bundle.run.status, RunStatus::Ok, "{}", show(&output));
    assert_eq!(bundle.config.settings.get("sandbox"), Some("bwrap"));
    let install = bundle.stages.iter().find(|s| s.kind == StageKind::Install).unwrap();
    assert!(
        install.log.to_string_lossy().contains("DESTDIR="),
        "{}",
        install.log.to_string_lossy()
    );
    assert!(!bundle.regress.is_empty());
}

/// Tests write under results/ (`\copy .. TO 'results/..'`) and pg_isolation_regress writes its
/// output folder, both as the sandbox's user: pgxs_parity passes sandboxed as it does outside.
#[test]
fn tests_that_write_results_and_isolation_specs_pass_in_the_sandbox() {
    let test = "tests_that_write_results_and_isolation_specs_pass_in_the_sandbox";
    let Some(installation) = installation(test) else { return };
    if !pgfarm_testsupport::require(
        test,
        "PostgreSQL 14 or later (pg_isolation_regress ships with PGXS from 14)",
        installation.major() >= 14,
    ) {
        return;
    }
    let dir = scratch();
    let source = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions"))
        .join("pgxs_parity");
    let (output, bundle) = sandboxed_test(&source, dir.path(), &installation);
    assert_eq!(bundle.run.status, RunStatus::Ok, "{}", show(&output));
    for kind in [StageKind::Regress, StageKind::Isolation] {
        let stage = bundle.stages.iter().find(|s| s.kind == kind).unwrap();
        assert_eq!(stage.status, pgfarm_model::StageStatus::Ok, "{kind:?}: {}", show(&output));
    }
}

#[test]
fn a_build_step_cannot_reach_a_listener_on_the_hosts_loopback() {
    let test = "a_build_step_cannot_reach_a_listener_on_the_hosts_loopback";
    let Some(installation) = installation(test) else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = scratch();
    let step = format!("bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'");
    let source = hostile_extension(dir.path(), "phones_home", &step);
    let (output, bundle) = sandboxed_test(&source, dir.path(), &installation);
    let reason = build_failure(&bundle, &output);
    assert!(reason.contains("the network is unreachable in the sandbox"), "{reason}");
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        ErrorKind::WouldBlock,
        "a connection reached the host's listener"
    );
}

#[test]
fn a_build_step_cannot_write_outside_its_folder() {
    let test = "a_build_step_cannot_write_outside_its_folder";
    let Some(installation) = installation(test) else { return };
    let dir = scratch();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = outside.join("escaped");
    let step = format!("echo escaped > {}", target.display());
    let source = hostile_extension(dir.path(), "escapes", &step);
    let (output, bundle) = sandboxed_test(&source, dir.path(), &installation);
    let reason = build_failure(&bundle, &output);
    assert!(reason.contains("refused a write outside the work folder"), "{reason}");
    assert!(!target.exists(), "the file outside the folder was written");
}

#[test]
fn a_fork_bomb_is_stopped_by_the_process_limit_and_the_run_goes_on() {
    let test = "a_fork_bomb_is_stopped_by_the_process_limit_and_the_run_goes_on";
    let Some(installation) = installation(test) else { return };
    let dir = scratch();
    let source = hostile_extension(dir.path(), "forks", "while :; do sleep 60 & done");
    let (output, bundle) = sandboxed_test(&source, dir.path(), &installation);
    let reason = build_failure(&bundle, &output);
    assert!(reason.contains("the sandbox's process limit was hit"), "{reason}");
    // The later stages were skipped and the bundle written: the run went on to its end.
    let install = bundle.stages.iter().find(|s| s.kind == StageKind::Install).unwrap();
    assert_eq!(install.status, StageStatus::Skipped);
}
