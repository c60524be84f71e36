//! The mirror writer (`pgfarm_pgxn::mirror`): a mirror built from the sample extensions in
//! testdata/extensions is read back by the client over real HTTP and file://, its archives verify
//! and unpack, and adding releases updates every document.

use std::path::{Path, PathBuf};

use pgfarm_pgxn::mirror::{Mirror, MirrorRelease};
use pgfarm_pgxn::{Accept, Client, ReleaseStatus, UnpackLimits, unpack};
use pgfarm_testsupport::http::serve_dir;

fn sample(name: &str) -> PathBuf {
    pgfarm_testsupport::repo("testdata/extensions").join(name)
}

fn release(source: PathBuf, date: &str) -> MirrorRelease {
    MirrorRelease {
        source,
        status: None,
        date: Some(date.into()),
        user: "Alice".into(),
        version: None,
        license: None,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_mirror_of_the_samples_reads_back_over_http_and_file_urls() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::create(&dir.path().join("mirror")).unwrap();
    // pure_sql has a META.json (version 1.0.0); c_func only a control file (1.0 -> 1.0.0).
    let pure = mirror.add(&release(sample("pure_sql"), "2026-01-01T00:00:00Z")).unwrap();
    let cfunc = mirror.add(&release(sample("c_func"), "2026-02-01T00:00:00Z")).unwrap();
    assert_eq!((pure.dist.as_str(), pure.version.as_str()), ("pure_sql", "1.0.0"));
    assert_eq!((cfunc.dist.as_str(), cfunc.version.as_str()), ("c_func", "1.0.0"));

    let http = serve_dir(mirror.root().to_owned());
    for base in [http, mirror.file_url().unwrap()] {
        let client = Client::new(&base).unwrap();
        let chosen = client.dist("c_func").unwrap().choose(Accept::Stable, None).unwrap();
        assert_eq!(chosen.version, "1.0.0");
        let meta = client.meta("c_func", "1.0.0").unwrap();
        assert_eq!(meta.user, "Alice");
        assert_eq!(meta.digests.sha1.as_deref(), Some(cfunc.sha1.as_str()));
        let cache = dir.path().join(format!("cache-{}", base.len()));
        let zip = client.download(&meta, &cache).unwrap();
        let out = dir.path().join(format!("out-{}", base.len()));
        let unpacked =
            unpack(&zip, &out, Some(&meta.top_folder()), &UnpackLimits::default()).unwrap();
        assert!(unpacked.root.ends_with("c_func-1.0.0"));
        assert_eq!(
            std::fs::read(unpacked.root.join("c_func.c")).unwrap(),
            std::fs::read(sample("c_func").join("c_func.c")).unwrap()
        );
        // the archive's META is the author's (written from the control file here)
        let inner: serde_json::Value =
            serde_json::from_slice(&std::fs::read(unpacked.root.join("META.json")).unwrap())
                .unwrap();
        assert_eq!(inner["name"], "c_func");
        assert!(inner.get("sha1").is_none(), "the zip's META is the author's, not the mirror's");

        let stats = client.dist_stats().unwrap();
        assert_eq!((stats.count, stats.releases), (2, 2));
        assert_eq!(stats.recent[0].dist, "c_func", "newest first");
        let user = client.user("alice").unwrap();
        assert!(user.releases.contains_key("pure_sql") && user.releases.contains_key("c_func"));
        let ext = client.extension("pure_sql").unwrap();
        assert_eq!(ext.latest_release().unwrap().version, "1.0.0");
    }
}

#[test]
fn archives_are_reproducible_and_releases_are_ordered_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::create(&dir.path().join("m")).unwrap();
    let first = mirror.add(&release(sample("upgrade"), "2026-01-01T00:00:00Z")).unwrap();
    let again = mirror.add(&release(sample("upgrade"), "2026-01-01T00:00:00Z")).unwrap();
    assert_eq!(first.sha1, again.sha1, "same folder, same archive");

    // A newer version and a testing release of the same dist.
    let mut newer = release(sample("upgrade"), "2026-03-01T00:00:00Z");
    newer.version = Some("1.2.0".into());
    mirror.add(&newer).unwrap();
    let mut beta = release(sample("upgrade"), "2026-04-01T00:00:00Z");
    beta.version = Some("1.3.0-beta1".into());
    beta.status = Some(ReleaseStatus::Testing);
    mirror.add(&beta).unwrap();
    // an older release added last goes to the end of its list
    let mut old = release(sample("upgrade"), "2025-06-01T00:00:00Z");
    old.version = Some("1.0.0".into());
    mirror.add(&old).unwrap();

    let client = Client::new(&mirror.file_url().unwrap()).unwrap();
    let dist = client.dist("upgrade").unwrap();
    let stable: Vec<&str> = dist.releases.stable.iter().map(|r| r.version.as_str()).collect();
    // `upgrade`'s control file says 1.1 -> 1.1.0
    assert_eq!(stable, ["1.2.0", "1.1.0", "1.0.0"]);
    assert_eq!(dist.releases.testing[0].version, "1.3.0-beta1");
    assert_eq!(dist.choose(Accept::Stable, None).unwrap().version, "1.2.0");
    assert_eq!(dist.choose(Accept::Testing, None).unwrap().version, "1.3.0-beta1");
    assert_eq!(
        client.meta("upgrade", "1.3.0-beta1").unwrap().release_status,
        ReleaseStatus::Testing
    );
    let stats = client.dist_stats().unwrap();
    assert_eq!((stats.count, stats.releases), (1, 4));
    let ext = client.extension("upgrade").unwrap();
    assert_eq!(ext.stable.unwrap().version, "1.2.0", "the newest stable, not the last added");
}

#[test]
fn modes_symlinks_and_pgfarm_output_are_handled() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    copy_dir(&sample("pure_sql"), &src);
    std::fs::write(src.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(src.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("pure_sql--1.0.sql", src.join("link.sql")).unwrap();
    std::fs::create_dir_all(src.join("pgfarm-results")).unwrap();
    std::fs::write(src.join("pgfarm-results/.pgfarm-output"), "").unwrap();
    std::fs::write(src.join("pgfarm-results/bundle.json"), "{}").unwrap();
    let mirror = Mirror::create(&dir.path().join("m")).unwrap();
    let published = mirror.add(&release(src, "2026-01-01T00:00:00Z")).unwrap();
    let out = dir.path().join("out");
    let unpacked =
        unpack(&published.zip, &out, Some("pure_sql-1.0.0"), &UnpackLimits::default()).unwrap();
    let mode = std::fs::metadata(unpacked.root.join("run.sh")).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "exec bit kept");
    assert_eq!(
        std::fs::read_to_string(unpacked.root.join("link.sql")).unwrap(),
        std::fs::read_to_string(sample("pure_sql").join("pure_sql--1.0.sql")).unwrap()
    );
    assert!(!unpacked.root.join("pgfarm-results").exists(), "pgfarm's output is not released");
}

#[test]
fn a_folder_that_names_no_release_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mirror = Mirror::create(&dir.path().join("m")).unwrap();
    let err = mirror.add(&release(empty.clone(), "2026-01-01T00:00:00Z")).unwrap_err().to_string();
    assert!(
        err.contains("empty") && err.contains("neither a META.json nor a control file"),
        "{err}"
    );
}
