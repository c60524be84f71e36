//! The client against the test mirror (testdata/pgxn-mirror), served by a real HTTP server on
//! loopback and read through file://.

mod common;

use common::{mirror_dir, serve};
use pgfarm_pgxn::{Accept, Client, Error, Limits, ReleaseStatus, UnpackLimits, unpack};
use std::sync::OnceLock;

fn http_base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| serve(mirror_dir()))
}

fn file_base() -> String {
    format!("file://{}/", mirror_dir().display())
}

fn both() -> [Client; 2] {
    [Client::new(http_base()).unwrap(), Client::new(&file_base()).unwrap()]
}

#[test]
fn index_templates_are_read_not_assumed() {
    for c in both() {
        assert_eq!(c.index().templates["dist"], "/dist/{dist}.json");
        assert_eq!(
            c.url("download", &[("dist", "pgtap"), ("version", "1.3.3")]).unwrap(),
            format!("{}/dist/pgtap/1.3.3/pgtap-1.3.3.zip", c.base().as_str())
        );
        let err = c.url("source", &[("dist", "x"), ("version", "1")]).unwrap_err().to_string();
        assert!(err.contains("index.json") && err.contains("no `source` template"), "{err}");
    }
}

#[test]
fn dist_documents_and_mixed_case_names() {
    for c in both() {
        let pair = c.dist("pair").unwrap();
        let versions: Vec<_> = pair.releases.stable.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(versions, ["0.1.7", "0.1.6"]);
        // pgTAP lives at /dist/pgtap.json; its name keeps its case
        let pgtap = c.dist("pgTAP").unwrap();
        assert_eq!(pgtap.name, "pgTAP");
        let chosen = pgtap.choose(Accept::Stable, None).unwrap();
        let meta = c.meta(&chosen.dist, &chosen.version).unwrap();
        assert_eq!((meta.name.as_str(), meta.top_folder()), ("pgTAP", "pgtap-1.3.3".to_owned()));
        assert!(c.meta_url("pgTAP", "1.3.3").unwrap().ends_with("/dist/pgtap/1.3.3/META.json"));
    }
}

#[test]
fn testing_only_and_unstable_only_dists() {
    for c in both() {
        let beta = c.dist("betaonly").unwrap();
        let err = beta.choose(Accept::Stable, None).unwrap_err().to_string();
        assert!(err.contains("betaonly") && err.contains("0.2.0-beta1 (testing)"), "{err}");
        let t = beta.choose(Accept::Testing, None).unwrap();
        assert_eq!((t.version.as_str(), t.status), ("0.2.0-beta1", ReleaseStatus::Testing));
        assert_eq!(c.meta("betaonly", &t.version).unwrap().release_status, ReleaseStatus::Testing);
        let alpha = c.dist("alphaonly").unwrap();
        assert!(alpha.choose(Accept::Testing, None).is_err());
        let u = alpha.choose(Accept::Unstable, None).unwrap();
        assert_eq!(
            c.meta("alphaonly", &u.version).unwrap().release_status,
            ReleaseStatus::Unstable
        );
    }
}

#[test]
fn meta_v1_gives_range_prereqs_and_release_fields() {
    for c in both() {
        let meta = c.meta("pair", "0.1.7").unwrap();
        assert_eq!((meta.user.as_str(), meta.date.as_str()), ("theory", "2021-02-03T04:05:06Z"));
        assert_eq!(meta.release_status, ReleaseStatus::Stable);
        assert_eq!(meta.digests.sha1.as_deref().map(str::len), Some(40));
        assert_eq!(meta.extensions, ["pair"]);
        // every phase's PostgreSQL clauses: >= 14, < 18 and 14.0.0
        assert_eq!(
            [13, 14, 17, 18].map(|m| meta.postgres.allows_major(m)),
            [false, true, true, false]
        );
        let requires: Vec<_> = meta
            .requires
            .iter()
            .map(|p| (p.phase, p.package.as_str(), p.name.as_str(), p.range.as_str()))
            .collect();
        assert_eq!(requires, [("test", "pkg:pgxn/pgtap", "pgtap", "1.0.0")]);
        assert!(meta.preload_server.is_empty());
        let pgtap = c.meta("pgtap", "1.3.3").unwrap();
        assert!(pgtap.postgres.allows_major(13));
        assert_eq!(pgtap.requires[0].package, "pkg:postgres/plpgsql");
    }
}

#[test]
fn meta_v2_gives_preload_packages_and_sha2_digests() {
    for c in both() {
        let meta = c.meta("preloaded", "2.0.0").unwrap();
        assert_eq!(meta.preload_server, ["preloaded"]);
        assert_eq!(meta.preload_session, ["hook_me"]);
        assert_eq!([14, 15].map(|m| meta.postgres.allows_major(m)), [false, true]);
        let packages: Vec<_> =
            meta.requires.iter().map(|p| (p.phase, p.source.as_str(), p.name.as_str())).collect();
        assert_eq!(packages, [("run", "postgres", "hstore"), ("test", "pgxn", "pgtap")]);
        assert_eq!(meta.digests.sha1, None);
        assert_eq!(meta.digests.sha256.as_deref().map(str::len), Some(64));
        // downloaded and checked against SHA-512 and SHA-256, cached under the SHA-256
        let cache = tempfile::tempdir().unwrap();
        let zip = c.download(&meta, cache.path()).unwrap();
        assert!(zip.starts_with(cache.path().join(meta.digests.sha256.as_ref().unwrap())));
    }
}

#[test]
fn stats_user_and_extension_documents() {
    for c in both() {
        let stats = c.dist_stats().unwrap();
        assert_eq!((stats.count, stats.releases), (6, 7));
        assert_eq!(stats.recent[0].dist, "preloaded");
        assert!(stats.recent.iter().any(|r| r.dist == "pgTAP" && r.user_name == "Theory"));
        let user = c.user("Theory").unwrap();
        assert_eq!(user.nickname, "theory");
        assert_eq!(user.releases["pair"].stable.len(), 2);
        assert_eq!(user.releases["betaonly"].testing[0].version, "0.2.0-beta1");
        let ext = c.extension("PAIR").unwrap();
        assert_eq!(ext.latest, ReleaseStatus::Stable);
        assert_eq!(ext.latest_release().unwrap().version, "0.1.7");
        assert_eq!(ext.versions["0.1.7"][0].status, Some(ReleaseStatus::Stable));
    }
}

#[test]
fn download_verify_cache_and_unpack() {
    for c in both() {
        let cache = tempfile::tempdir().unwrap();
        let meta = c.meta("pgTAP", "1.3.3").unwrap();
        let zip = c.download(&meta, cache.path()).unwrap();
        let sha1 = meta.digests.sha1.clone().unwrap();
        assert_eq!(zip, cache.path().join(&sha1).join("pgtap-1.3.3.zip"));
        // a second download is the cached file; a corrupted cached file is fetched again
        let mtime = std::fs::metadata(&zip).unwrap().modified().unwrap();
        assert_eq!(c.download(&meta, cache.path()).unwrap(), zip);
        assert_eq!(std::fs::metadata(&zip).unwrap().modified().unwrap(), mtime);
        std::fs::write(&zip, b"corrupt").unwrap();
        assert_eq!(c.download(&meta, cache.path()).unwrap(), zip);
        assert_ne!(std::fs::read(&zip).unwrap(), b"corrupt");

        let work = tempfile::tempdir().unwrap();
        let got =
            unpack(&zip, work.path(), Some(&meta.top_folder()), &UnpackLimits::default()).unwrap();
        assert_eq!(got.root, work.path().join("pgtap-1.3.3"));
        assert_eq!(got.files, 6);
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |p: &str| std::fs::metadata(got.root.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            (mode("bin/run"), mode("test/setup.sh"), mode("Makefile")),
            (0o755, 0o755, 0o644)
        );
        assert!(std::fs::read_to_string(got.root.join("META.json")).unwrap().contains("\"pgTAP\""));
    }
}

#[test]
fn wrong_sha1_deletes_the_file_and_names_both_digests() {
    for c in both() {
        let cache = tempfile::tempdir().unwrap();
        let meta = c.meta("badsum", "1.0.0").unwrap();
        let err = c.download(&meta, cache.path()).unwrap_err();
        let Error::Checksum { algorithm, expected, actual, path, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!((*algorithm, expected.as_str()), ("SHA-1", "0".repeat(40).as_str()));
        let real = sha1_hex(
            &std::fs::read(mirror_dir().join("dist/badsum/1.0.0/badsum-1.0.0.zip")).unwrap(),
        );
        assert_eq!(actual, &real);
        let text = err.to_string();
        assert!(
            text.contains(&"0".repeat(40))
                && text.contains(&real)
                && text.contains("badsum-1.0.0.zip"),
            "{text}"
        );
        assert!(!path.exists(), "{} was kept", path.display());
        let left: Vec<_> = walk(cache.path());
        assert!(left.iter().all(|p| p.is_dir()), "files left in the cache: {left:?}");
    }
}

#[test]
fn not_found_and_server_errors_name_the_url_and_status() {
    let c = Client::new(http_base()).unwrap();
    let err = c.dist("no_such_dist").unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("{}dist/no_such_dist.json", http_base())), "{err}");
    let f = Client::new(&file_base()).unwrap();
    let err = f.meta("pair", "9.9.9").unwrap_err().to_string();
    assert!(err.contains("dist/pair/9.9.9/META.json") && err.contains("not found"), "{err}");

    let failing = format!("{}status/503/", http_base());
    let err = Client::new(&failing).unwrap_err();
    let Error::Status { url, status } = &err else { panic!("{err:?}") };
    assert_eq!((url.as_str(), *status), (format!("{failing}index.json").as_str(), 503));
    assert!(err.to_string().contains("HTTP status 503"), "{err}");
}

#[test]
fn a_loopback_base_follows_no_redirect() {
    let base = format!("{}redirect/", http_base());
    let err = Client::new(&base).unwrap_err();
    assert!(matches!(err, Error::Status { status: 302, .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("{base}index.json")), "{err}");
}

#[test]
fn size_caps() {
    let limits = Limits { document_bytes: 100, archive_bytes: 1 << 20 };
    let err = Client::with_limits(http_base(), limits).unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 100, .. }), "{err:?}");
    let limits = Limits { document_bytes: 1 << 20, archive_bytes: 100 };
    for base in [http_base().to_owned(), file_base()] {
        let c = Client::with_limits(&base, limits).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let err = c.download(&c.meta("pair", "0.1.7").unwrap(), cache.path()).unwrap_err();
        assert!(
            err.to_string().contains("pair-0.1.7.zip: larger than the limit of 100 bytes"),
            "{err}"
        );
        assert!(walk(cache.path()).iter().all(|p| p.is_dir()));
    }
}

#[test]
fn invalid_meta_is_refused_with_its_url() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("index.json"),
        std::fs::read(mirror_dir().join("index.json")).unwrap(),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("dist/x/1.0.0")).unwrap();
    let good = std::fs::read_to_string(mirror_dir().join("dist/pair/0.1.6/META.json")).unwrap();
    let c = Client::new(&format!("file://{}", root.display())).unwrap();
    let cases = [
        (good.replace("\"sha1\"", "\"sha_one\""), "field `sha1`: missing"),
        (good.replace("\"license\": \"postgresql\",", ""), "not valid PGXN release metadata"),
        (
            good.replace("\"release_status\": \"stable\"", "\"release_status\": \"gold\""),
            "field `release_status`",
        ),
        ("[1, 2]".to_owned(), "not a JSON object"),
    ];
    for (text, want) in cases {
        std::fs::write(root.join("dist/x/1.0.0/META.json"), text).unwrap();
        let err = c.meta("x", "1.0.0").unwrap_err().to_string();
        assert!(err.contains(want) && err.contains("dist/x/1.0.0/META.json"), "{err}");
    }
    std::fs::write(
        root.join("dist/x.json"),
        r#"{"name": "x", "releases": {"stable": [{"version": 1}]}}"#,
    )
    .unwrap();
    let err = c.dist("x").unwrap_err().to_string();
    assert!(
        err.contains("not a valid dist document") && err.contains("releases.stable[0]"),
        "{err}"
    );
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(bytes))
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}
