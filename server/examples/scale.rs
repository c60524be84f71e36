//! Read latency at scale: fills a database with generated runs through the `Store` (the same
//! insert path as submissions, one transaction per run), then starts the server on it and
//! measures the p50/p95 of the matrix, failures, history and run-list endpoints over HTTP.
//!
//! ```text
//! cargo run --release -p pgfarm-server --example scale -- --data-dir /tmp/scale --runs 1000000
//! cargo run --release -p pgfarm-server --example scale -- --data-dir /tmp/scale --runs 0   # measure only
//! ```
//!
//! Generated runs: 50 extensions x 3 versions, PostgreSQL 13-18, 8 machines on 4 platforms,
//! 5 tests each, about 10 % failed, spread over the last 365 days. Their stored bundles are a
//! few placeholder bytes (the reads measured here never decode bundles).

use std::time::{Duration, Instant};

use pgfarm_server::config::Config;
use pgfarm_server::db::{NewMachine, NewRun, StageRow, TestRow};

struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const PLATFORMS: [&str; 4] = ["linux/x86_64", "linux/aarch64", "freebsd/amd64", "macos/arm64"];

fn main() -> anyhow::Result<()> {
    let mut data_dir = std::path::PathBuf::from("/tmp/pgfarm-scale");
    let mut database_url = None;
    let mut n_runs: usize = 100_000;
    let mut samples: usize = 200;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--data-dir" => data_dir = value.into(),
            "--database-url" => database_url = Some(value),
            "--runs" => n_runs = value.parse()?,
            "--samples" => samples = value.parse()?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut config = Config::for_data_dir(&data_dir);
    if let Some(url) = database_url {
        config.database_url = url;
    }
    config.admin_token = Some("scale-admin".into());
    runtime.block_on(fill(&config, n_runs))?;

    let server = runtime.block_on(pgfarm_server::Server::start(config))?;
    let base = format!("http://{}", server.addr);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent();
    let stats: serde_json::Value = serde_json::from_str(
        &agent.get(format!("{base}/api/v1/stats")).call()?.body_mut().read_to_string()?,
    )?;
    println!("database: {stats}");
    let mid: serde_json::Value = serde_json::from_str(
        &agent.get(format!("{base}/api/v1/runs?limit=500")).call()?.body_mut().read_to_string()?,
    )?;
    let cursor = mid["next"].as_str().unwrap_or("").to_owned();
    let paths = [
        "/api/v1/matrix".to_owned(),
        "/api/v1/matrix?extension=ext007".to_owned(),
        "/api/v1/failures?days=7".to_owned(),
        "/api/v1/failures?days=30&hide_now_green=true".to_owned(),
        "/api/v1/failures?days=30&extension=ext007&pg=17".to_owned(),
        "/api/v1/failures?days=365".to_owned(),
        "/api/v1/failures?days=365&hide_now_green=true".to_owned(),
        "/api/v1/failures?days=365&extension=ext007&pg=17".to_owned(),
        "/api/v1/extensions/ext007/tests/test_3/history".to_owned(),
        "/api/v1/extensions/ext007/tests/test_3/history?limit=1000".to_owned(),
        "/api/v1/runs".to_owned(),
        format!("/api/v1/runs?after={cursor}"),
        "/api/v1/runs?extension=ext007&pg=17".to_owned(),
        "/api/v1/runs?machine=machine-3&status=failed".to_owned(),
    ];
    for path in &paths {
        let mut latencies = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            let mut response = agent.get(format!("{base}{path}")).call()?;
            let _ = response.body_mut().read_to_vec()?;
            assert_eq!(response.status().as_u16(), 200, "{path}");
            latencies.push(started.elapsed());
        }
        latencies.sort();
        println!(
            "{path:<60} p50 {:>8.2} ms  p95 {:>8.2} ms",
            latencies[samples / 2].as_secs_f64() * 1e3,
            latencies[samples * 95 / 100].as_secs_f64() * 1e3
        );
    }
    runtime.block_on(server.shutdown());
    Ok(())
}

async fn fill(config: &Config, n_runs: usize) -> anyhow::Result<()> {
    if n_runs == 0 {
        return Ok(());
    }
    let (state, _) = pgfarm_server::prepare(config.clone()).await?;
    let store = state.store.clone();
    let mut machine_ids = Vec::new();
    for idx in 0..8 {
        let name = format!("machine-{idx}");
        let row = match store.machine(&name).await? {
            Some(row) => row,
            None => {
                let (os, arch) = PLATFORMS[idx % 4].split_once('/').unwrap();
                store
                    .register_machine(&NewMachine {
                        name: name.clone(),
                        owner_email: "scale@example.org".into(),
                        description: String::new(),
                        os: os.into(),
                        arch: arch.into(),
                        compiler: "gcc".into(),
                        client_addr: "127.0.0.1".into(),
                        created_at: pgfarm_server::now_ms(),
                    })
                    .await?
            }
        };
        machine_ids.push((row.id, PLATFORMS[idx % 4]));
    }
    let now = pgfarm_server::now_ms();
    let span = 365 * 86_400_000_i64;
    let mut noise = Noise(0x2545_F491_4F6C_DD1D);
    let started = Instant::now();
    for idx in 0..n_runs {
        let (machine_id, platform) = machine_ids[(noise.next() % 8) as usize];
        let pg_major = 13 + (noise.next() % 6) as i64;
        let failed = noise.next().is_multiple_of(10);
        let at = now - span + span * idx as i64 / n_runs as i64;
        let tests: Vec<TestRow> = (0..5)
            .map(|test_idx| TestRow {
                stage: "regress".into(),
                test_name: format!("test_{test_idx}"),
                status: if failed && test_idx == 3 { "failed" } else { "ok" }.into(),
                duration_ms: 10,
            })
            .collect();
        let status = if failed { "failed" } else { "ok" };
        let run = NewRun {
            uuid: format!("{:08x}-0000-4000-8000-{:012x}", noise.next() as u32, idx),
            machine_id,
            extension: format!("ext{:03}", noise.next() % 50),
            ext_version: format!("1.{}.0", noise.next() % 3),
            pg_version: format!("{pg_major}.2"),
            pg_major,
            platform: platform.into(),
            status: status.into(),
            failed_stage: failed.then(|| "regress".into()),
            n_tests: 5,
            n_failed: i64::from(failed),
            created_at: at,
            received_at: at,
            pg_min: Some(13),
            bundle: b"generated by examples/scale.rs".to_vec(),
            stages: vec![
                StageRow { name: "build".into(), status: "ok".into(), duration_ms: 100 },
                StageRow { name: "regress".into(), status: status.into(), duration_ms: 500 },
            ],
            tests,
        };
        store.insert_run(&run).await?;
        if idx % 50_000 == 49_999 {
            eprintln!("{} runs in {:?}", idx + 1, started.elapsed());
        }
    }
    eprintln!("filled {n_runs} runs in {:?}", started.elapsed());
    Ok(())
}
