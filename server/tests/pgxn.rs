//! The PGXN sync against real components: a generated mirror served over real HTTP on
//! 127.0.0.1, a real pgfarm-server on a real port (SQLite, and PostgreSQL when installed), the
//! real `pgfarm-server pgxn sync` binary.

mod common;
#[path = "common/mirror.rs"]
mod mirror;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Backend, Farm};
use mirror::Mirror;
use pgfarm_server::pgxn::SyncReport;
use pgfarm_testsupport::http::{Served, serve};
use serde_json::Value;

on_both_backends!(
    a_release_gained_between_two_syncs_is_one_new_queue_item_per_machine_and_major,
    a_release_requiring_a_newer_postgresql_is_never_queued_for_older_majors,
    an_unchanged_resync_reads_two_documents_and_writes_nothing,
    machines_choose_the_release_statuses_they_test,
    users_are_listed_with_their_distributions,
    a_plain_mirror_is_enumerated_through_its_recent_uploaders,
);

/// Serves `root`: the base URL and the request log.
fn serve_dir(root: std::path::PathBuf) -> (String, Served) {
    let served = serve(root);
    (served.url.clone(), served)
}

/// The paths requested since the last call.
fn take(served: &Served) -> Vec<String> {
    let requests = served.requests();
    served.clear();
    requests
}

fn sync(farm: &Farm, base: &str) -> SyncReport {
    let store = farm.server.as_ref().expect("running").state.store.clone();
    farm.runtime
        .block_on(pgfarm_server::pgxn::sync(store.as_ref(), base))
        .unwrap_or_else(|err| panic!("sync: {err}"))
}

/// (extension, version) of a machine's queue on `pg`.
fn queue(farm: &Farm, machine: &str, pg: i64, status: Option<&str>) -> Vec<(String, String)> {
    let status = status.map(|s| format!("&status={s}")).unwrap_or_default();
    let answer = farm.get(&format!("/api/v1/machines/{machine}/queue?pg={pg}&limit=500{status}"));
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|item| {
            assert_eq!(item["pg_major"], pg);
            (
                item["extension"].as_str().unwrap().to_owned(),
                item["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A valid date `day` days (of 28-day months) after 2020-01-01, increasing with `day`.
fn date(day: u32) -> String {
    format!("{}-{:02}-{:02}T12:00:00Z", 2020 + day / 336, 1 + (day % 336) / 28, 1 + day % 28)
}

/// A mirror with the userlist template (as the API server has): three users, five dists.
fn sample_mirror(root: &std::path::Path) -> Mirror {
    let mut m = Mirror::new(root);
    m.userlist = true;
    m.add("alpha", "1.0.0", "stable", &date(1), "ann", None)
        .add("alpha", "1.0.1", "stable", &date(2), "ann", Some(">= 13.0.0"))
        .add("pgTAP", "1.3.3", "stable", &date(3), "bob", Some("9.1.0"))
        .add("modern", "2.0.0", "stable", &date(4), "bob", Some(">= 16.0.0"))
        .add("legacy", "0.9.0", "stable", &date(5), "cat", Some(">= 13.0.0, < 18.0.0"))
        .add("beta", "0.2.0-beta1", "testing", &date(6), "cat", None)
        .add("alpha", "2.0.0-alpha1", "unstable", &date(7), "ann", None);
    m.write();
    m
}

fn a_release_gained_between_two_syncs_is_one_new_queue_item_per_machine_and_major(
    backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut mirror = sample_mirror(dir.path());
    let (base, _log) = serve_dir(dir.path().to_owned());
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    farm.approved_machine("m2");
    let first = sync(&farm, &base);
    assert!(first.enumerated && !first.unchanged, "{first:?}");
    assert_eq!(first.releases_written, 7, "{first:?}");
    assert_eq!(first.users_written, 3, "{first:?}");
    let majors = [13, 14, 15, 16, 17, 18];
    let before: Vec<Vec<(String, String)>> = ["m1", "m2"]
        .iter()
        .flat_map(|m| majors.iter().map(move |pg| (m, pg)))
        .map(|(m, pg)| queue(&farm, m, *pg, None))
        .collect();

    mirror.add("alpha", "1.1.0", "stable", &date(40), "ann", None);
    mirror.write();
    let second = sync(&farm, &base);
    assert!(!second.enumerated && !second.unchanged, "{second:?}");
    assert_eq!((second.releases_written, second.users_written), (1, 0), "{second:?}");
    let mut i = 0;
    for machine in ["m1", "m2"] {
        for pg in majors {
            let after = queue(&farm, machine, pg, None);
            let new: Vec<_> = after.iter().filter(|item| !before[i].contains(item)).collect();
            assert_eq!(
                new,
                [&("alpha".to_owned(), "1.1.0".to_owned())],
                "{machine} pg {pg}: {after:?}"
            );
            assert_eq!(after.len(), before[i].len() + 1);
            // newest first
            assert_eq!(after[0], ("alpha".to_owned(), "1.1.0".to_owned()));
            i += 1;
        }
    }
    // The queue hands the worker what it fetches.
    let items = farm.get("/api/v1/machines/m1/queue?pg=17").json();
    let item = items.as_array().unwrap().iter().find(|i| i["version"] == "1.1.0").unwrap();
    assert_eq!(item["dist"], "alpha");
    assert_eq!(item["release_status"], "stable");
    assert_eq!(item["download_url"], format!("{base}dist/alpha/1.1.0/alpha-1.1.0.zip"));
    assert_eq!(item["sha1"], Mirror::sha1("alpha", "1.1.0"));
    assert_eq!(item["mirror"], base.as_str());
    // pgTAP: the dist name as META writes it, the paths lowercased.
    let pgtap = items.as_array().unwrap().iter().find(|i| i["version"] == "1.3.3").unwrap();
    assert_eq!(pgtap["extension"], "pgTAP");
    assert_eq!(pgtap["download_url"], format!("{base}dist/pgtap/1.3.3/pgtap-1.3.3.zip"));
    // A run of a queued release takes it off that machine's queue for that major only.
    let (_, mut decoded) = common::bundle_for("pass.pgfarm.json", "m1");
    decoded.extension.name = "alpha".into();
    decoded.extension.version = "1.1.0".into();
    let pg = i64::from(decoded.postgres.major);
    let answer = farm.submit("m1", &secret, &decoded.to_gzip_vec());
    assert_eq!(answer.status, 201, "{}", answer.text());
    let m1 = queue(&farm, "m1", pg, None);
    assert!(!m1.contains(&("alpha".into(), "1.1.0".into())), "{m1:?}");
    assert!(queue(&farm, "m2", pg, None).contains(&("alpha".into(), "1.1.0".into())));
}

fn a_release_requiring_a_newer_postgresql_is_never_queued_for_older_majors(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    sample_mirror(dir.path());
    let (base, _log) = serve_dir(dir.path().to_owned());
    let farm = backend.farm();
    farm.approved_machine("m1");
    sync(&farm, &base);
    let has = |pg, dist: &str| queue(&farm, "m1", pg, None).iter().any(|(e, _)| e == dist);
    for pg in [13, 14, 15] {
        assert!(!has(pg, "modern"), "modern (>= 16) queued for {pg}");
    }
    for pg in [16, 17, 18] {
        assert!(has(pg, "modern"), "modern (>= 16) not queued for {pg}");
    }
    // `< 18` excludes 18 only
    for pg in [13, 14, 15, 16, 17] {
        assert!(has(pg, "legacy"), "legacy not queued for {pg}");
    }
    assert!(!has(18, "legacy"), "legacy (< 18) queued for 18");
    // The extension page shows the range and the PGXN page.
    let detail = farm.get("/api/v1/extensions/modern").json();
    let release = &detail["releases"][0];
    assert_eq!(release["pg_range"], ">= 16.0.0");
    assert_eq!(release["pg_min"], 16);
    assert_eq!(release["pgxn_url"], "https://pgxn.org/dist/modern/2.0.0/");
    assert_eq!(release["release_status"], "stable");
    assert_eq!(release["source"], "pgxn");
    assert_eq!(release["date"], date(4));
}

/// Everything the database files hold (SQLite) or the row versions of the sync's tables
/// (PostgreSQL: `xmin` changes with every insert or update, even of equal values).
fn database_state(farm: &Farm) -> Vec<String> {
    let url = farm.config.database_url.clone();
    if let Some(path) = url.strip_prefix("sqlite://") {
        return ["", "-wal"]
            .iter()
            .map(|suffix| {
                let bytes = std::fs::read(format!("{path}{suffix}")).unwrap_or_default();
                format!("{suffix}: {} bytes, {}", bytes.len(), sha2_hex(&bytes))
            })
            .collect();
    }
    farm.runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let mut state = Vec::new();
        for table in ["extension_releases", "pgxn_users", "pgxn_dists", "pgxn_mirrors", "settings"]
        {
            let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT xmin::text || ':' || ctid::text FROM {table} ORDER BY 1"
            )))
            .fetch_all(&pool)
            .await
            .unwrap();
            state.push(format!("{table}: {rows:?}"));
        }
        pool.close().await;
        state
    })
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn an_unchanged_resync_reads_two_documents_and_writes_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    sample_mirror(dir.path());
    let (base, log) = serve_dir(dir.path().to_owned());
    let farm = backend.farm();
    let first = sync(&farm, &base);
    assert_eq!(first.releases_written, 7);
    let requests = take(&log);
    assert!(requests.iter().any(|p| p == "/users/a.json"), "enumerated by userlist: {requests:?}");
    assert_eq!(first.documents, requests.len(), "{requests:?}");
    let before = database_state(&farm);
    let second = sync(&farm, &base);
    assert!(second.unchanged, "{second:?}");
    assert_eq!((second.releases_written, second.users_written, second.documents), (0, 0, 2));
    assert_eq!(take(&log), ["/index.json", "/stats/dist.json"]);
    assert_eq!(database_state(&farm), before, "an unchanged re-sync wrote to the database");
    // A third one too.
    assert!(sync(&farm, &base).unchanged);
    assert_eq!(database_state(&farm), before);
}

fn machines_choose_the_release_statuses_they_test(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    sample_mirror(dir.path());
    let (base, _log) = serve_dir(dir.path().to_owned());
    let farm = backend.farm();
    farm.approved_machine("m1");
    sync(&farm, &base);
    // An admin-added release counts as stable.
    let answer = farm.admin(
        "/api/v1/admin/extensions",
        &serde_json::json!({"extension": "handmade", "version": "1.0", "pg_min": 13}),
    );
    assert_eq!(answer.status, 201, "{}", answer.text());
    let versions = |status| -> BTreeSet<String> {
        queue(&farm, "m1", 17, status).into_iter().map(|(e, v)| format!("{e} {v}")).collect()
    };
    let stable: BTreeSet<String> = [
        "alpha 1.0.0",
        "alpha 1.0.1",
        "pgTAP 1.3.3",
        "modern 2.0.0",
        "legacy 0.9.0",
        "handmade 1.0",
    ]
    .map(String::from)
    .into();
    assert_eq!(versions(None), stable);
    assert_eq!(versions(Some("stable")), stable);
    let mut testing = stable.clone();
    testing.insert("beta 0.2.0-beta1".into());
    assert_eq!(versions(Some("stable,testing")), testing);
    assert_eq!(versions(Some("unstable")), ["alpha 2.0.0-alpha1".to_owned()].into());
    let statuses: BTreeSet<String> = farm
        .get("/api/v1/machines/m1/queue?pg=17&status=testing,unstable")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["release_status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["testing".to_owned(), "unstable".to_owned()].into());
    let answer = farm.get("/api/v1/machines/m1/queue?pg=17&status=stable,beta");
    answer.expect_error(400, "malformed");
    assert!(answer.json()["message"].as_str().unwrap().contains("`beta`"), "{}", answer.text());
    // The matrix filters by release status too.
    farm.get("/api/v1/matrix?release_status=nightly").expect_error(400, "malformed");
    assert_eq!(farm.get("/api/v1/matrix?release_status=testing").json(), Value::Array(vec![]));
}

fn users_are_listed_with_their_distributions(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    sample_mirror(dir.path());
    let (base, _log) = serve_dir(dir.path().to_owned());
    let farm = backend.farm();
    sync(&farm, &base);
    let users = farm.get("/api/v1/users").json();
    let summary: Vec<(String, i64, i64)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["nickname"].as_str().unwrap().to_owned(),
                u["n_dists"].as_i64().unwrap(),
                u["n_releases"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("ann".to_owned(), 1, 3), ("bob".to_owned(), 2, 2), ("cat".to_owned(), 2, 2)]
    );
    assert_eq!(users[0]["name"], "User ann");
    assert_eq!(users[0]["uri"], "https://example.org/ann");
    assert_eq!(users[0]["pgxn_url"], "https://pgxn.org/user/ann/");
    let bob = farm.get("/api/v1/users/bob").json();
    assert_eq!(bob["user"]["nickname"], "bob");
    let dists: Vec<&str> = bob["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dist"].as_str().unwrap())
        .collect();
    assert_eq!(dists, ["modern", "pgTAP"]);
    let pgtap = &bob["distributions"][1];
    assert_eq!(pgtap["abstract"], "The pgTAP distribution");
    assert_eq!(pgtap["releases"][0]["version"], "1.3.3");
    assert_eq!(pgtap["releases"][0]["pgxn_url"], "https://pgxn.org/dist/pgtap/1.3.3/");
    assert_eq!(pgtap["releases"][0]["n_runs"], 0);
    let ann = farm.get("/api/v1/users/Ann").json();
    let versions: Vec<&str> = ann["distributions"][0]["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2.0.0-alpha1", "1.0.1", "1.0.0"], "newest first");
    assert_eq!(ann["distributions"][0]["releases"][0]["release_status"], "unstable");
    farm.get("/api/v1/users/nobody").expect_error(404, "not_found");
}

fn a_plain_mirror_is_enumerated_through_its_recent_uploaders(backend: Backend) {
    // No userlist: the first sync finds the users named by stats/dist.json and reads their
    // documents, which list every distribution of theirs, recent or not.
    let dir = tempfile::tempdir().unwrap();
    let mut m = Mirror::new(dir.path());
    for i in 0..60 {
        m.add(&format!("old{i}"), "1.0.0", "stable", &date(i), "ann", None);
    }
    m.add("newer", "1.0.0", "stable", &date(100), "ann", None);
    m.write();
    let (base, log) = serve_dir(dir.path().to_owned());
    let farm = backend.farm();
    farm.approved_machine("m1");
    let report = sync(&farm, &base);
    assert_eq!(report.releases_written, 61, "{report:?}");
    assert!(!take(&log).iter().any(|p| p.starts_with("/users/")));
    assert_eq!(queue(&farm, "m1", 17, None).len(), 61);
    // More than 56 releases since the last sync: the oldest recent one is unknown, so the
    // sync enumerates again instead of missing the ones that fell off the list.
    for i in 0..58 {
        m.add(&format!("burst{i}"), "1.0.0", "stable", &date(200 + i), "ann", None);
    }
    m.write();
    let report = sync(&farm, &base);
    assert!(report.enumerated, "{report:?}");
    assert_eq!(report.releases_written, 58, "{report:?}");
    assert_eq!(queue(&farm, "m1", 17, None).len(), 119);
}

#[test]
fn the_cli_sync_exits_0_and_imports_the_test_mirror() {
    let (base, _log) =
        serve_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/pgxn-mirror"));
    let data = tempfile::tempdir().unwrap();
    let run = |mirror: &str| {
        pgfarm_pgnode::command::Command::new(env!("CARGO_BIN_EXE_pgfarm-server"))
            .args(["pgxn", "sync", "--mirror", mirror, "--data-dir"])
            .arg(data.path())
            .env_remove("PGFARM_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .output()
            .expect("pgfarm-server runs")
    };
    let output = run(&base);
    assert_eq!(output.code(), Some(0), "{}\n{}", output.stdout, output.stderr);
    assert!(output.stdout.contains("7 releases and 1 users written"), "{}", output.stdout);
    let again = run(&base);
    assert_eq!(again.code(), Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("unchanged since the last sync"), "{}", again.stdout);
    let failed = run("http://127.0.0.1:9/");
    assert_eq!(failed.code(), Some(1), "{}", failed.stdout);
    assert!(failed.stderr.contains("http://127.0.0.1:9/index.json"), "{}", failed.stderr);

    let path = data.path().to_owned();
    let farm = Farm::sqlite_with(|config| {
        config.database_url = format!("sqlite://{}", path.join("pgfarm.sqlite3").display());
        config.data_dir = path.clone();
    });
    let pgtap = farm.get("/api/v1/extensions/pgTAP").json();
    assert_eq!(pgtap["releases"][0]["version"], "1.3.3");
    assert_eq!(pgtap["releases"][0]["pgxn_url"], "https://pgxn.org/dist/pgtap/1.3.3/");
    let pair = farm.get("/api/v1/extensions/pair").json();
    assert_eq!(pair["releases"][0]["pg_range"], ">= 14.0.0, < 18.0.0, 14.0.0");
    assert_eq!(
        (pair["releases"][0]["pg_min"].as_i64(), pair["releases"][0]["pg_max"].as_i64()),
        (Some(14), Some(17))
    );
    farm.approved_machine("m1");
    let q13 = queue(&farm, "m1", 13, Some("stable,testing,unstable"));
    // pair 0.1.7 requires 14 to 17, preloaded (v2 `dependencies.postgres.version`) 15 on;
    // pair 0.1.6 states no range.
    assert_eq!(q13.len(), 5, "{q13:?}");
    assert!(!q13.contains(&("pair".into(), "0.1.7".into())), "{q13:?}");
    assert!(!q13.iter().any(|(e, _)| e == "preloaded"), "{q13:?}");
    let all = queue(&farm, "m1", 17, Some("stable,testing,unstable"));
    assert_eq!(all.len(), 7, "{all:?}");
    let theory = farm.get("/api/v1/users/theory").json();
    assert_eq!(theory["user"]["n_releases"], 7);
}

#[test]
fn the_running_server_syncs_periodically_and_reads_keep_answering() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Mirror::new(dir.path());
    m.userlist = true;
    for i in 0..60 {
        m.add(
            &format!("dist{i}"),
            "1.0.0",
            "stable",
            &date(i % 300),
            &format!("u{}", i % 20),
            None,
        );
        m.add(
            &format!("dist{i}"),
            "1.1.0",
            "stable",
            &date(i % 300 + 1),
            &format!("u{}", i % 20),
            None,
        );
    }
    m.write();
    let (base, log) = serve_dir(dir.path().to_owned());
    let farm = Farm::sqlite_with(|config| {
        config.pgxn_mirror = Some(base.clone());
        config.pgxn_interval = Duration::from_millis(500);
    });
    farm.approved_machine("m1");
    let started = Instant::now();
    let mut reads = 0;
    let mut slowest = Duration::ZERO;
    let n_queued = |farm: &Farm| {
        farm.get("/api/v1/machines/m1/queue?pg=17&limit=500").json().as_array().unwrap().len()
    };
    while n_queued(&farm) < 120 {
        assert!(started.elapsed() < Duration::from_secs(180), "the first sync did not finish");
        for path in ["/api/v1/matrix", "/api/v1/users", "/healthz", "/api/v1/extensions/dist3"] {
            let at = Instant::now();
            let answer = farm.get(path);
            slowest = slowest.max(at.elapsed());
            assert!(
                answer.status == 200 || (answer.status == 404 && path.ends_with("dist3")),
                "{path}: {}",
                answer.text()
            );
            reads += 1;
        }
    }
    assert!(reads >= 4);
    assert!(slowest < Duration::from_secs(2), "a read took {slowest:?} during the sync");
    // A new release shows up at a later tick; unchanged ticks read two documents each.
    m.add("dist7", "2.0.0", "stable", &date(400), "u7", None);
    m.write();
    let started = Instant::now();
    while !queue(&farm, "m1", 17, None).contains(&("dist7".into(), "2.0.0".into())) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the periodic sync did not pick up dist7 2.0.0"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1200));
    let _ = take(&log);
    std::thread::sleep(Duration::from_millis(1100));
    let idle = take(&log);
    assert!(!idle.is_empty(), "no tick in 1.1 s with a 500 ms interval");
    assert!(
        idle.iter().all(|p| p == "/index.json" || p == "/stats/dist.json"),
        "an unchanged tick read more: {idle:?}"
    );
}

#[test]
fn a_mirror_written_by_pgfarm_pgxn_queues_releases_whose_zip_matches_the_sha1() {
    use pgfarm_pgxn::mirror::{Mirror as RealMirror, MirrorRelease};
    let dir = tempfile::tempdir().unwrap();
    let real = RealMirror::create(&dir.path().join("mirror")).unwrap();
    let release = |name: &str, date: &str| MirrorRelease {
        source: pgfarm_testsupport::repo("testdata/extensions").join(name),
        status: None,
        date: Some(date.into()),
        user: "Alice".into(),
        version: None,
        license: None,
    };
    let pure = real.add(&release("pure_sql", "2026-01-01T00:00:00Z")).unwrap();
    let (base, _log) = serve_dir(real.root().to_owned());
    let farm = Farm::sqlite();
    farm.approved_machine("m1");
    assert_eq!(sync(&farm, &base).releases_written, 1);
    let fetch_sha1 = |url: &str| {
        use sha1::Digest as _;
        let mut response = farm.agent.get(url).call().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let bytes = response.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap();
        hex::encode(sha1::Sha1::digest(&bytes))
    };
    let items = farm.get("/api/v1/machines/m1/queue?pg=17").json();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["extension"], pure.dist.as_str());
    assert_eq!(items[0]["sha1"], pure.sha1.as_str());
    assert_eq!(fetch_sha1(items[0]["download_url"].as_str().unwrap()), pure.sha1);
    // A second release between two syncs: one new item, and its archive matches too.
    let cfunc = real.add(&release("c_func", "2026-02-01T00:00:00Z")).unwrap();
    let report = sync(&farm, &base);
    assert_eq!((report.releases_written, report.enumerated), (1, false), "{report:?}");
    let items = farm.get("/api/v1/machines/m1/queue?pg=17").json();
    assert_eq!(items.as_array().unwrap().len(), 2, "{items}");
    assert_eq!(items[0]["extension"], cfunc.dist.as_str());
    assert_eq!(fetch_sha1(items[0]["download_url"].as_str().unwrap()), cfunc.sha1);
    let alice = farm.get("/api/v1/users/alice").json();
    assert_eq!(alice["user"]["n_releases"], 2, "{alice}");
}
