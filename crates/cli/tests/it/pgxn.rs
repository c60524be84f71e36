//! `pgfarm test pgxn:NAME[@VERSION]`, `FILE.zip` and `URL.zip` against a PGXN mirror of small
//! test distributions written by `pgfarm_pgxn::mirror` (served over loopback HTTP and as
//! `file://`), on one real PostgreSQL: release choice by status, provenance and name/version in
//! the bundle, a bad checksum, a hostile archive, a prerequisite distribution installed once per
//! tree, and the upgrade stage from the previous PGXN release.

#![allow(clippy::disallowed_methods, reason = "a test harness runs the binary under test")]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use pgfarm_model::{Bundle, ReleaseStatus, SourceKind, StageKind, StageStatus};
use pgfarm_pgnode::Installation;
use pgfarm_pgxn::mirror::{Mirror, MirrorRelease, Published};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

/// The end of a PGXS Makefile.
const PGXS_LINES: &str =
    "PG_CONFIG ?= pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n";

/// One major with PGXS, as `--pg` wants it: the second highest when there are several (the
/// other modules' tests take the lowest and the highest, and a run waits for a tree another run
/// holds).
fn one_major(test: &str) -> Option<String> {
    let mut majors: Vec<u32> =
        Installation::discover().iter().filter(|i| i.has_pgxs()).map(|i| i.major()).collect();
    majors.sort_unstable();
    majors.dedup();
    let major = majors.iter().rev().nth(1).or(majors.last()).copied();
    if !pgfarm_testsupport::require(test, "a PostgreSQL installation with PGXS", major.is_some()) {
        return None;
    }
    major.map(|m| m.to_string())
}

fn installation(major: &str) -> Installation {
    Installation::discover()
        .into_iter()
        .find(|i| i.has_pgxs() && i.major().to_string() == major)
        .expect("the installation one_major chose")
}

/// Writes an extension source folder: a control file at `ext_version`, a META.json at
/// `version` (dist `dist`) with `prereqs`, install scripts `{ext}--{v}.sql` for each of
/// `installs`, update scripts for each `(from, to)`, and one regress test.
/// A test distribution's source folder (see [`ext_source`]).
struct Spec<'a> {
    dist: &'a str,
    ext: &'a str,
    version: &'a str,
    ext_version: &'a str,
    installs: &'a [&'a str],
    updates: &'a [(&'a str, &'a str)],
    prereqs: serde_json::Value,
    requires: &'a str,
}

fn ext_source(dir: &Path, spec: Spec<'_>) -> PathBuf {
    let Spec { dist, ext, version, ext_version, installs, updates, prereqs, requires } = spec;
    let root = dir.join(format!("{ext}-{version}"));
    fs::create_dir_all(root.join("sql")).unwrap();
    fs::create_dir_all(root.join("expected")).unwrap();
    let mut control = format!(
        "comment = 'pgfarm test distribution'\ndefault_version = '{ext_version}'\nrelocatable = true\n"
    );
    if !requires.is_empty() {
        control.push_str(&format!("requires = '{requires}'\n"));
    }
    fs::write(root.join(format!("{ext}.control")), control).unwrap();
    let mut data = Vec::new();
    for v in installs {
        let file = format!("{ext}--{v}.sql");
        fs::write(
            root.join(&file),
            format!(
                "CREATE FUNCTION {ext}_answer() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 42 $$;\n\
                 CREATE FUNCTION {ext}_version() RETURNS text LANGUAGE sql AS $$ SELECT '{v}'::text $$;\n"
            ),
        )
        .unwrap();
        data.push(file);
    }
    for (from, to) in updates {
        let file = format!("{ext}--{from}--{to}.sql");
        fs::write(
            root.join(&file),
            format!(
                "CREATE OR REPLACE FUNCTION {ext}_version() RETURNS text LANGUAGE sql AS $$ SELECT '{to}'::text $$;\n"
            ),
        )
        .unwrap();
        data.push(file);
    }
    fs::write(
        root.join("Makefile"),
        format!("EXTENSION = {ext}\nDATA = {}\nREGRESS = basic\n{PGXS_LINES}", data.join(" ")),
    )
    .unwrap();
    fs::write(
        root.join("sql/basic.sql"),
        format!("CREATE EXTENSION {ext} CASCADE;\nSELECT {ext}_answer() AS answer;\n"),
    )
    .unwrap();
    fs::write(
        root.join("expected/basic.out"),
        format!(
            "CREATE EXTENSION {ext} CASCADE;\n{}SELECT {ext}_answer() AS answer;\n answer \n--------\n     42\n(1 row)\n\n",
            if requires.is_empty() {
                String::new()
            } else {
                format!("NOTICE:  installing required extension \"{requires}\"\n")
            }
        ),
    )
    .unwrap();
    let meta = serde_json::json!({
        "name": dist,
        "version": version,
        "abstract": "A pgfarm test distribution",
        "maintainer": "pgfarm <pgfarm@example.com>",
        "license": "postgresql",
        "provides": {ext: {"file": format!("{ext}--{ext_version}.sql"), "version": version}},
        "prereqs": prereqs,
        "meta-spec": {"version": "1.0.0"},
    });
    fs::write(root.join("META.json"), serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    root
}

struct TestMirror {
    _dir: tempfile::TempDir,
    root: PathBuf,
    file_url: String,
    http_url: String,
    /// (dist, version) -> what was published.
    published: Vec<Published>,
}

impl TestMirror {
    fn release(&self, dist: &str, version: &str) -> &Published {
        self.published
            .iter()
            .find(|p| p.dist == dist && p.version == version)
            .unwrap_or_else(|| panic!("{dist} {version} was published"))
    }
}

/// One mirror for the whole module:
/// - `PgfarmPick` (extension `pgfarm_pick`): 1.0.0 and 1.1.0 stable, 2.0.0-beta1 testing,
///   3.0.0-alpha1 unstable (the choice by status);
/// - `PgfarmUp` (`pgfarm_up`): 1.0.0 (installs 1.0) and 1.1.0 (control `1.1`, META `1.1.0`; only
///   `pgfarm_up--1.1.sql` and the update `1.0--1.1`: the tree cannot install 1.0 from it);
/// - `PgfarmNeedy` (`pgfarm_needy`) requiring `pgfarm_helper` >= 1.0.0 at runtime, and
///   `pgfarm_helper` 0.9.0 and 1.0.0 (`pgfarm_helper`);
/// - `PgfarmBetaOnly`: 0.1.0 testing only; `PgfarmBadSum`: a META whose sha1 is forty zeros.
fn mirror() -> &'static TestMirror {
    static MIRROR: OnceLock<TestMirror> = OnceLock::new();
    MIRROR.get_or_init(build_mirror)
}

fn build_mirror() -> TestMirror {
    {
        let dir = tempfile::tempdir().unwrap();
        let sources = dir.path().join("src");
        let root = dir.path().join("mirror");
        let m = Mirror::create(&root).unwrap();
        let none = serde_json::json!({"runtime": {"requires": {"PostgreSQL": "13.0.0"}}});
        let mut published = Vec::new();
        let mut add = |source: PathBuf, status: pgfarm_pgxn::ReleaseStatus, date: &str| {
            let p = m
                .add(&MirrorRelease {
                    source,
                    status: Some(status),
                    date: Some(date.into()),
                    user: "pgfarm".into(),
                    version: None,
                    license: None,
                })
                .unwrap();
            published.push(p);
        };
        use pgfarm_pgxn::ReleaseStatus::{Stable, Testing, Unstable};
        let chain = [("1.0", "1.1"), ("1.1", "2.0"), ("2.0", "3.0")];
        for (i, (version, ext_version, status)) in [
            ("1.0.0", "1.0", Stable),
            ("1.1.0", "1.1", Stable),
            ("2.0.0-beta1", "2.0", Testing),
            ("3.0.0-alpha1", "3.0", Unstable),
        ]
        .into_iter()
        .enumerate()
        {
            let src = ext_source(
                &sources.join("pick"),
                Spec {
                    dist: "PgfarmPick",
                    ext: "pgfarm_pick",
                    version,
                    ext_version,
                    installs: &[ext_version],
                    updates: &chain[..i],
                    prereqs: none.clone(),
                    requires: "",
                },
            );
            add(src, status, &format!("2026-01-0{}T00:00:00Z", i + 1));
        }
        let up10 = ext_source(
            &sources.join("up"),
            Spec {
                dist: "PgfarmUp",
                ext: "pgfarm_up",
                version: "1.0.0",
                ext_version: "1.0",
                installs: &["1.0"],
                updates: &[],
                prereqs: none.clone(),
                requires: "",
            },
        );
        add(up10, Stable, "2026-02-01T00:00:00Z");
        let up11 = ext_source(
            &sources.join("up"),
            Spec {
                dist: "PgfarmUp",
                ext: "pgfarm_up",
                version: "1.1.0",
                ext_version: "1.1",
                installs: &["1.1"],
                updates: &[("1.0", "1.1")],
                prereqs: none.clone(),
                requires: "",
            },
        );
        add(up11, Stable, "2026-02-02T00:00:00Z");
        for (version, date) in
            [("0.9.0", "2026-03-01T00:00:00Z"), ("1.0.0", "2026-03-02T00:00:00Z")]
        {
            let helper = ext_source(
                &sources.join("helper"),
                Spec {
                    dist: "pgfarm_helper",
                    ext: "pgfarm_helper",
                    version,
                    ext_version: version,
                    installs: &[version],
                    updates: &[],
                    prereqs: none.clone(),
                    requires: "",
                },
            );
            add(helper, Stable, date);
        }
        let needy = ext_source(
            &sources.join("needy"),
            Spec {
                dist: "PgfarmNeedy",
                ext: "pgfarm_needy",
                version: "1.0.0",
                ext_version: "1.0",
                installs: &["1.0"],
                updates: &[],
                prereqs: serde_json::json!({"runtime": {"requires": {"PostgreSQL": "13.0.0", "pgfarm_helper": "1.0.0"}}}),
                requires: "pgfarm_helper",
            },
        );
        add(needy, Stable, "2026-03-03T00:00:00Z");
        let beta = ext_source(
            &sources.join("beta"),
            Spec {
                dist: "PgfarmBetaOnly",
                ext: "pgfarm_betaonly",
                version: "0.1.0",
                ext_version: "0.1",
                installs: &["0.1"],
                updates: &[],
                prereqs: none.clone(),
                requires: "",
            },
        );
        add(beta, Testing, "2026-04-01T00:00:00Z");
        let bad = ext_source(
            &sources.join("bad"),
            Spec {
                dist: "PgfarmBadSum",
                ext: "pgfarm_badsum",
                version: "1.0.0",
                ext_version: "1.0",
                installs: &["1.0"],
                updates: &[],
                prereqs: none.clone(),
                requires: "",
            },
        );
        add(bad, Stable, "2026-04-02T00:00:00Z");
        // PgfarmRerun (`pgfarm_rerun`, `[upgrade] rerun = true`): a table filled by each
        // install script; the update 1.0 -> 1.1 keeps its row, 1.1 -> 1.2 deletes it (the
        // catalogs still agree: only the re-run pgTAP file sees it).
        for (i, (version, ext_version, update)) in [
            ("1.0.0", "1.0", None),
            ("1.1.0", "1.1", Some(("1.0", "UPDATE pgfarm_rerun_conf SET v = '1.1';\n"))),
            ("1.2.0", "1.2", Some(("1.1", "DELETE FROM pgfarm_rerun_conf;\n"))),
        ]
        .into_iter()
        .enumerate()
        {
            let src = ext_source(
                &sources.join("rerun"),
                Spec {
                    dist: "PgfarmRerun",
                    ext: "pgfarm_rerun",
                    version,
                    ext_version,
                    installs: &[ext_version],
                    updates: &[],
                    prereqs: none.clone(),
                    requires: "",
                },
            );
            fs::write(
                src.join(format!("pgfarm_rerun--{ext_version}.sql")),
                [
                    "CREATE FUNCTION pgfarm_rerun_answer() RETURNS int LANGUAGE sql IMMUTABLE",
                    " AS $$ SELECT 42 $$;\nCREATE TABLE pgfarm_rerun_conf (v text);\n",
                    &format!("INSERT INTO pgfarm_rerun_conf VALUES ('{ext_version}');\n"),
                ]
                .concat(),
            )
            .unwrap();
            let mut data = vec![format!("pgfarm_rerun--{ext_version}.sql")];
            if let Some((from, sql)) = update {
                let file = format!("pgfarm_rerun--{from}--{ext_version}.sql");
                fs::write(src.join(&file), sql).unwrap();
                data.push(file);
            }
            fs::write(
                src.join("Makefile"),
                format!(
                    "EXTENSION = pgfarm_rerun\nDATA = {}\nREGRESS = basic\n{PGXS_LINES}",
                    data.join(" ")
                ),
            )
            .unwrap();
            fs::create_dir_all(src.join("test")).unwrap();
            fs::write(
                src.join("test/conf.sql"),
                "SELECT plan(1);\nSELECT is((SELECT count(*)::int FROM pgfarm_rerun_conf), 1, 'one configuration row');\nSELECT * FROM finish();\n",
            )
            .unwrap();
            fs::write(src.join("pgfarm.toml"), "[upgrade]\nrerun = true\n").unwrap();
            add(src, Stable, &format!("2026-05-0{}T00:00:00Z", i + 1));
        }
        let meta_path = root.join("dist/pgfarmbadsum/1.0.0/META.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
        meta["sha1"] = serde_json::json!("0".repeat(40));
        fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
        let file_url = m.file_url().unwrap();
        let http_url = pgfarm_testsupport::http::serve_dir(root.clone());
        TestMirror { _dir: dir, root, file_url, http_url, published }
    }
}

fn pgfarm_test(args: &[&str], out: &Path) -> Output {
    let output = Command::new(PGFARM)
        .args(["test", "--plain", "--out"])
        .arg(out)
        .args(args)
        .env_remove("PGFARM_PGXN_MIRROR")
        .output()
        .unwrap();
    eprintln!(
        "pgfarm test {args:?}: {:?}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn only_bundle(out: &Path) -> Bundle {
    let paths: Vec<PathBuf> = fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".pgfarm.json.gz"))
        .collect();
    assert_eq!(paths.len(), 1, "one bundle in {}: {paths:?}", out.display());
    Bundle::from_slice(&fs::read(&paths[0]).unwrap()).unwrap()
}

fn stage(bundle: &Bundle, kind: StageKind) -> &pgfarm_model::Stage {
    bundle.stages.iter().find(|s| s.kind == kind).unwrap_or_else(|| panic!("stage {kind}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Removes extension `ext`'s files from the tree (what an earlier run of this module left).
fn forget(installation: &Installation, ext: &str) {
    let dir = installation.sharedir.join("extension");
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == format!("{ext}.control") || name.starts_with(&format!("{ext}--")) {
            fs::remove_file(entry.path()).unwrap();
        }
    }
}

#[test]
fn pgxn_name_chooses_by_status_and_records_the_release() {
    let Some(major) = one_major("pgxn_name_chooses_by_status_and_records_the_release") else {
        return;
    };
    let m = mirror();
    let tmp = tempfile::tempdir().unwrap();
    // (argument, flags, chosen version, status), over HTTP; the mixed-case name is lowercased.
    for (i, (arg, flag, version, status)) in [
        ("pgxn:PgfarmPick", None, "1.1.0", ReleaseStatus::Stable),
        ("pgxn:PGFARMPICK@1.0.0", None, "1.0.0", ReleaseStatus::Stable),
        ("pgxn:pgfarmpick", Some("--testing"), "2.0.0-beta1", ReleaseStatus::Testing),
        ("pgxn:pgfarmpick", Some("--unstable"), "3.0.0-alpha1", ReleaseStatus::Unstable),
    ]
    .into_iter()
    .enumerate()
    {
        let out = tmp.path().join(format!("out{i}"));
        let mut args = vec![arg, "--pg", &major, "--pgxn-mirror", &m.http_url];
        args.extend(flag);
        let output = pgfarm_test(&args, &out);
        assert_eq!(output.status.code(), Some(0), "{arg} {flag:?}: {}", stderr(&output));
        let bundle = only_bundle(&out);
        assert_eq!(
            (bundle.extension.name.as_str(), bundle.extension.version.as_str()),
            ("PgfarmPick", version)
        );
        let source = bundle.extension.source.as_ref().unwrap();
        assert_eq!(source.kind, SourceKind::Pgxn);
        assert_eq!(source.location, format!("PgfarmPick/{version}"));
        let release = source.release.as_ref().unwrap();
        assert_eq!(release.release_status, Some(status));
        assert_eq!(release.sha1, m.release("PgfarmPick", version).sha1);
        assert_eq!(release.mirror.as_deref(), Some(m.http_url.trim_end_matches('/')));
        assert_eq!(
            release.url.as_deref(),
            Some(
                format!("{}dist/pgfarmpick/{version}/pgfarmpick-{version}.zip", m.http_url)
                    .as_str()
            )
        );
        assert_eq!(stage(&bundle, StageKind::Regress).status, StageStatus::Ok);
    }
}

#[test]
fn an_unknown_dist_or_no_accepted_release_is_a_usage_error() {
    let m = mirror();
    let tmp = tempfile::tempdir().unwrap();
    let output =
        pgfarm_test(&["pgxn:pgfarm_no_such_dist", "--pgxn-mirror", &m.file_url], tmp.path());
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("no distribution pgfarm_no_such_dist on"),
        "{}",
        stderr(&output)
    );
    let output = pgfarm_test(&["pgxn:PgfarmBetaOnly", "--pgxn-mirror", &m.file_url], tmp.path());
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("0.1.0 (testing)") && err.contains("--testing") && err.contains("--unstable"),
        "{err}"
    );
    // the environment variable names the mirror too; an unreachable one is exit 2 naming it
    let output = Command::new(PGFARM)
        .args(["test", "--plain", "pgxn:pgfarmpick", "--out"])
        .arg(tmp.path())
        .env("PGFARM_PGXN_MIRROR", "http://127.0.0.1:9/")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("http://127.0.0.1:9/index.json"), "{}", stderr(&output));
}

#[test]
fn a_wrong_checksum_is_exit_2_naming_both_digests_and_the_file_is_deleted() {
    let m = mirror();
    let tmp = tempfile::tempdir().unwrap();
    let actual = &m.release("PgfarmBadSum", "1.0.0").sha1;
    let output = pgfarm_test(&["pgxn:PgfarmBadSum", "--pgxn-mirror", &m.http_url], tmp.path());
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains(&"0".repeat(40)) && err.contains(actual.as_str()), "{err}");
    assert!(err.contains("was deleted"), "{err}");
    let cached = pgfarm_runner::dist::default_cache().join("0".repeat(40));
    let left: Vec<_> = fs::read_dir(&cached).into_iter().flatten().flatten().collect();
    assert!(left.is_empty(), "left in the cache: {left:?}");
}

#[test]
fn an_escaping_archive_is_exit_2_naming_the_member() {
    let tmp = tempfile::tempdir().unwrap();
    let zip_path = tmp.path().join("evil-1.0.0.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("evil-1.0.0/META.json", options).unwrap();
    zip.write_all(br#"{"name": "evil", "version": "1.0.0"}"#).unwrap();
    zip.start_file("evil-1.0.0/../../escaped.txt", options).unwrap();
    zip.write_all(b"outside\n").unwrap();
    zip.finish().unwrap();
    let work = tmp.path().join("work");
    let output = pgfarm_test(
        &[zip_path.to_str().unwrap(), "--workdir", work.to_str().unwrap()],
        &tmp.path().join("out"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("evil-1.0.0/../../escaped.txt"), "{}", stderr(&output));
    assert!(!tmp.path().join("escaped.txt").exists() && !work.join("escaped.txt").exists());
}

#[test]
fn a_zip_file_and_a_zip_url_are_named_by_their_meta() {
    let Some(major) = one_major("a_zip_file_and_a_zip_url_are_named_by_their_meta") else {
        return;
    };
    let m = mirror();
    let published = m.release("PgfarmUp", "1.1.0");
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("{}dist/pgfarmup/1.1.0/pgfarmup-1.1.0.zip", m.http_url);
    for (i, arg) in [published.zip.to_str().unwrap(), url.as_str()].into_iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        let output = pgfarm_test(&[arg, "--pg", &major], &out);
        assert_eq!(output.status.code(), Some(0), "{arg}: {}", stderr(&output));
        let bundle = only_bundle(&out);
        // META's name and version, not the control file's `pgfarm_up` `1.1`
        assert_eq!(
            (bundle.extension.name.as_str(), bundle.extension.version.as_str()),
            ("PgfarmUp", "1.1.0")
        );
        let source = bundle.extension.source.as_ref().unwrap();
        assert_eq!((source.kind, source.location.as_str()), (SourceKind::Pgxn, "PgfarmUp/1.1.0"));
        let release = source.release.as_ref().unwrap();
        assert_eq!(release.sha1, published.sha1);
        assert_eq!(release.mirror, None, "no mirror for a local source unless one is given");
        if i == 0 {
            assert_eq!(release.file.as_deref(), Some(arg));
        } else {
            assert_eq!(release.url.as_deref(), Some(arg));
        }
        // without a mirror the upgrade stage does not look for the previous release
        let upgrade = stage(&bundle, StageKind::Upgrade);
        assert_eq!(upgrade.status, StageStatus::Missing, "{:?}", upgrade.error);
        assert!(
            upgrade.error.as_deref().unwrap_or("").contains("--pgxn-mirror"),
            "{:?}",
            upgrade.error
        );
    }
}

#[test]
fn the_upgrade_stage_updates_from_the_previous_pgxn_release() {
    let Some(major) = one_major("the_upgrade_stage_updates_from_the_previous_pgxn_release") else {
        return;
    };
    let m = mirror();
    let tree = installation(&major);
    // an install script of 1.0 left in the tree would be used instead of the previous release
    let _ = fs::remove_file(tree.sharedir.join("extension/pgfarm_up--1.0.sql"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // a zip with an explicit mirror (the worker's form), then pgxn: over file://
    let zip = m.release("PgfarmUp", "1.1.0").zip.to_str().unwrap().to_owned();
    for (i, args) in [
        vec![zip.as_str(), "--pgxn-mirror", &m.http_url],
        vec!["pgxn:PgfarmUp", "--pgxn-mirror", &m.file_url],
    ]
    .into_iter()
    .enumerate()
    {
        let out = out.join(i.to_string());
        let output = pgfarm_test(&[&args[..], &["--pg", &major]].concat(), &out);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let bundle = only_bundle(&out);
        let upgrade = stage(&bundle, StageKind::Upgrade);
        assert_eq!(upgrade.status, StageStatus::Ok, "{:?}", upgrade.error);
        let log = upgrade.log.to_string_lossy();
        assert!(log.contains("previous release PgfarmUp 1.0.0"), "{log}");
        assert!(log.contains("ALTER EXTENSION \"pgfarm_up\" UPDATE TO '1.1'"), "{log}");
        assert!(log.contains("catalog objects after 1.0 -> 1.1 equal a fresh 1.1"), "{log}");
        // the previous release's own install script is gone from the tree again
        assert!(!tree.sharedir.join("extension/pgfarm_up--1.0.sql").exists());
        assert!(tree.sharedir.join("extension/pgfarm_up--1.1.sql").exists());
    }
}

#[test]
fn a_prerequisite_from_the_mirror_is_installed_once_per_tree_and_recorded() {
    let Some(major) =
        one_major("a_prerequisite_from_the_mirror_is_installed_once_per_tree_and_recorded")
    else {
        return;
    };
    let m = mirror();
    let tree = installation(&major);
    forget(&tree, "pgfarm_helper");
    let tmp = tempfile::tempdir().unwrap();
    let helper = m.release("pgfarm_helper", "1.0.0");
    for (run, installed) in [(0, true), (1, false)] {
        let out = tmp.path().join(format!("out{run}"));
        let output =
            pgfarm_test(&["pgxn:PgfarmNeedy", "--pg", &major, "--pgxn-mirror", &m.http_url], &out);
        assert_eq!(output.status.code(), Some(0), "run {run}: {}", stderr(&output));
        let bundle = only_bundle(&out);
        let prereqs = &bundle.extension.source.as_ref().unwrap().prerequisites;
        assert_eq!(prereqs.len(), 1, "{prereqs:?}");
        let p = &prereqs[0];
        assert_eq!(
            (p.name.as_str(), p.range.as_str(), p.version.as_str(), p.installed),
            ("pgfarm_helper", "1.0.0", "1.0.0", installed)
        );
        assert_eq!(p.sha1.as_deref(), installed.then_some(helper.sha1.as_str()));
        assert_eq!(stage(&bundle, StageKind::Load).status, StageStatus::Ok);
    }
    // without a mirror, a directory source does not fetch it: the load stage says it is missing
    forget(&tree, "pgfarm_helper");
    let src = tmp.path().join("needy");
    pgfarm_pgxn::unpack(
        &m.release("PgfarmNeedy", "1.0.0").zip,
        &src,
        None,
        &pgfarm_pgxn::UnpackLimits::default(),
    )
    .unwrap();
    let out = tmp.path().join("out-dir");
    let dir = src.join("pgfarmneedy-1.0.0");
    let output = pgfarm_test(&[dir.to_str().unwrap(), "--pg", &major], &out);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let bundle = only_bundle(&out);
    let load = stage(&bundle, StageKind::Load);
    assert_eq!(load.status, StageStatus::Missing);
    assert!(load.error.as_deref().unwrap_or("").contains("pgfarm_helper"), "{:?}", load.error);
    let _ = &m.root;
}

#[test]
fn upgrade_rerun_runs_the_pgtap_files_in_the_updated_database() {
    let Some(major) = one_major("upgrade_rerun_runs_the_pgtap_files_in_the_updated_database")
    else {
        return;
    };
    let m = mirror();
    let tree = installation(&major);
    if !pgfarm_testsupport::require(
        "upgrade_rerun_runs_the_pgtap_files_in_the_updated_database",
        "pgTAP in the tree",
        tree.has_pgtap(),
    ) {
        return;
    }
    for v in ["1.0", "1.1"] {
        let _ = fs::remove_file(tree.sharedir.join(format!("extension/pgfarm_rerun--{v}.sql")));
    }
    let tmp = tempfile::tempdir().unwrap();
    // 1.1.0: updated from 1.0.0, the row kept: the re-run passes
    let out = tmp.path().join("ok");
    let output = pgfarm_test(
        &["pgxn:PgfarmRerun@1.1.0", "--pg", &major, "--pgxn-mirror", &m.http_url],
        &out,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bundle = only_bundle(&out);
    assert_eq!(stage(&bundle, StageKind::Tap).status, StageStatus::Ok);
    let upgrade = stage(&bundle, StageKind::Upgrade);
    assert_eq!(upgrade.status, StageStatus::Ok, "{:?}", upgrade.error);
    assert!(upgrade.log.to_string_lossy().contains("the pgTAP files again after 1.0 -> 1.1"));
    // 1.2.0: its update script loses the row; only the re-run in the updated database sees it
    let out = tmp.path().join("broken");
    let output =
        pgfarm_test(&["pgxn:PgfarmRerun", "--pg", &major, "--pgxn-mirror", &m.http_url], &out);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let bundle = only_bundle(&out);
    assert_eq!(stage(&bundle, StageKind::Tap).status, StageStatus::Ok);
    let upgrade = stage(&bundle, StageKind::Upgrade);
    assert_eq!(upgrade.status, StageStatus::Failed);
    let error = upgrade.error.as_deref().unwrap_or("");
    assert!(
        error.contains("after ALTER EXTENSION UPDATE 1.1 -> 1.2") && error.contains("conf"),
        "{error}"
    );
}
