//! The PGXN sync of a generated mirror of 400 distributions and 2,000 releases (the documents
//! a mirror serves, with the API server's `userlist`; no zips) served over loopback HTTP, into a
//! fresh SQLite database: the first sync (enumerating everything) and an unchanged re-sync.
//! `cargo bench -p pgfarm-server --bench pgxn_sync [-- DISTS RELEASES_PER_DIST RUNS]`;
//! figures in server/README.md.

#[path = "../tests/common/mirror.rs"]
mod mirror;

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let dists = args.first().copied().unwrap_or(400);
    let per_dist = args.get(1).copied().unwrap_or(5);
    let runs = args.get(2).copied().unwrap_or(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("mirror");
    let mut m = mirror::Mirror::new(&root);
    m.userlist = true;
    let statuses = ["stable", "stable", "stable", "testing", "unstable"];
    for d in 0..dists {
        for r in 0..per_dist {
            let n = d * per_dist + r;
            let date = format!(
                "{}-{:02}-{:02}T{:02}:{:02}:00Z",
                2012 + n / 8064,
                1 + (n / 672) % 12,
                1 + (n / 24) % 28,
                n % 24,
                d % 60
            );
            let range =
                [None, Some(">= 13.0.0"), Some(">= 14.0.0, < 18.0.0"), Some("9.1.0")][d % 4];
            m.add(
                &format!("dist{d}"),
                &format!("1.{r}.0"),
                statuses[r % 5],
                &date,
                &format!("user{}", d % 97),
                range,
            );
        }
    }
    let started = Instant::now();
    m.write();
    println!(
        "mirror: {dists} dists, {} releases, written in {:.2?}",
        dists * per_dist,
        started.elapsed()
    );
    let served = pgfarm_testsupport::http::serve(root);
    let base = served.url.clone();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut first = Vec::new();
    let mut again = Vec::new();
    for run in 0..runs {
        let data = dir.path().join(format!("db{run}"));
        let config = pgfarm_server::config::Config::for_data_dir(&data);
        let store = runtime.block_on(pgfarm_server::db::open(&config)).expect("store");
        served.clear();
        let at = Instant::now();
        let report =
            runtime.block_on(pgfarm_server::pgxn::sync(store.as_ref(), &base)).expect("first sync");
        first.push(at.elapsed());
        assert_eq!(report.releases_written, dists * per_dist, "{report:?}");
        let requests = served.requests().len();
        served.clear();
        let at = Instant::now();
        let report =
            runtime.block_on(pgfarm_server::pgxn::sync(store.as_ref(), &base)).expect("re-sync");
        again.push(at.elapsed());
        assert!(report.unchanged, "{report:?}");
        println!(
            "run {run}: first sync {:.3} s ({requests} requests), unchanged re-sync {:.4} s ({} requests)",
            first[run].as_secs_f64(),
            again[run].as_secs_f64(),
            served.requests().len()
        );
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    println!(
        "median of {runs}: first sync {:.3} s (target <= 5 s), unchanged re-sync {:.4} s (target <= 0.5 s)",
        median(&mut first).as_secs_f64(),
        median(&mut again).as_secs_f64()
    );
}
