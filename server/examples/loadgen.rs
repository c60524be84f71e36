//! Ingest load generator: signs and submits N bundles of about S KB (gzip) from C client
//! threads to one or more servers (round robin), then reports throughput, latency
//! percentiles, status counts, and checks that the servers stored each 201 exactly once.
//!
//! ```text
//! cargo run --release -p pgfarm-server --example loadgen -- \
//!     --server http://127.0.0.1:8080 --admin-token TOKEN --runs 3000 --concurrency 16 --kb 50
//! ```
//!
//! It registers and approves its own machine (`loadgen-<pid>`) with the admin token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pgfarm_model::Bundle;

struct Options {
    servers: Vec<String>,
    admin_token: String,
    runs: usize,
    concurrency: usize,
    kb: usize,
    extensions: usize,
    record: Option<String>,
    verify: Option<String>,
}

fn parse_options() -> Options {
    let mut options = Options {
        servers: Vec::new(),
        admin_token: std::env::var("PGFARM_ADMIN_TOKEN").unwrap_or_default(),
        runs: 1000,
        concurrency: 16,
        kb: 50,
        extensions: 20,
        record: None,
        verify: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => options.servers.push(value()),
            "--admin-token" => options.admin_token = value(),
            "--runs" => options.runs = value().parse().expect("--runs N"),
            "--concurrency" => options.concurrency = value().parse().expect("--concurrency N"),
            "--kb" => options.kb = value().parse().expect("--kb N"),
            "--extensions" => options.extensions = value().parse().expect("--extensions N"),
            "--record" => options.record = Some(value()),
            "--verify" => options.verify = Some(value()),
            other => panic!("unknown flag {other}"),
        }
    }
    if options.servers.is_empty() {
        options.servers.push("http://127.0.0.1:8080".into());
    }
    options
}

fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

fn call(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, String) {
    match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            (status, response.body_mut().read_to_string().unwrap_or_default())
        }
        Err(err) => (0, err.to_string()),
    }
}

/// A small xorshift generator, so padding is incompressible without a rand dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `--verify FILE`: every uuid recorded as 201 must be readable now (after a crash and restart).
fn verify(base: &str, path: &str) {
    let agent = new_agent();
    let text = std::fs::read_to_string(path).expect("record file");
    let (mut ok, mut missing) = (0, 0);
    for uuid in text.lines().filter(|line| !line.is_empty()) {
        let (status, _) = call(agent.get(format!("{base}/api/v1/runs/{uuid}")).call());
        let (bundle_status, _) = call(agent.get(format!("{base}/api/v1/runs/{uuid}/logs")).call());
        if status == 200 && bundle_status == 200 {
            ok += 1;
        } else {
            missing += 1;
            eprintln!("run {uuid}: {status} / logs {bundle_status}");
        }
    }
    println!("verified: {ok} runs that got 201 are readable with their bundle, {missing} are not");
    std::process::exit(if missing == 0 { 0 } else { 1 });
}

fn main() {
    let options = parse_options();
    if let Some(path) = &options.verify {
        verify(&options.servers[0], path);
    }
    let agent = new_agent();
    let machine = format!("loadgen-{}", std::process::id());
    let base = &options.servers[0];
    let (status, body) = call(
        agent.post(format!("{base}/api/v1/machines")).header("content-type", "application/json").send(
            serde_json::json!({"name": machine, "owner_email": "load@example.org", "os": "linux", "arch": "x86_64"})
                .to_string(),
        ),
    );
    assert_eq!(status, 201, "register: {body}");
    let (status, body) = call(
        agent
            .post(format!("{base}/api/v1/admin/machines/{machine}/approve"))
            .header("authorization", format!("Bearer {}", options.admin_token))
            .send_empty(),
    );
    assert_eq!(status, 200, "approve (give --admin-token): {body}");
    let secret: String = serde_json::from_str::<serde_json::Value>(&body).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    // Prepare the bundles first so the measurement covers only HTTP and the server.
    let sample_path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/bundles/regress-fail.pgfarm.json");
    let sample =
        Bundle::from_slice(&std::fs::read(sample_path).expect("sample bundle")).expect("decodes");
    let started = Instant::now();
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id()));
    let alphabet: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bodies: Vec<Vec<u8>> = (0..options.runs)
        .map(|idx| {
            let mut bundle = sample.clone();
            bundle.machine.name = machine.clone();
            let raw = (u128::from(noise.next()) << 64 | u128::from(noise.next())) & !(0xF << 76)
                | (0x4 << 76);
            bundle.run.id = pgfarm_model::Uuid::from_u128(raw & !(0x3 << 62) | (0x2 << 62));
            bundle.extension.name = format!("ext{:03}", idx % options.extensions);
            bundle.postgres.major = 13 + (idx % 6) as u16;
            bundle.postgres.version = format!("{}.1", bundle.postgres.major);
            bundle.postgres.minor = Some(1);
            // Incompressible padding in the server log: 6 bits per byte, so ~4/3 * kb raw.
            let pad: Vec<u8> =
                (0..options.kb * 1365).map(|_| alphabet[(noise.next() % 64) as usize]).collect();
            bundle.server_log = pgfarm_model::RawText::from_bytes(pad);
            bundle.to_gzip_vec()
        })
        .collect();
    let mean_kb = bodies.iter().map(Vec::len).sum::<usize>() as f64 / bodies.len() as f64 / 1024.0;
    eprintln!(
        "prepared {} bundles of {mean_kb:.1} KB (gzip) in {:?}",
        bodies.len(),
        started.elapsed()
    );

    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(options.runs)));
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    // Each 201's uuid is appended (and flushed) as soon as it arrives, so a crash of the server
    // mid-load leaves the exact list of runs that must survive.
    let record = Arc::new(Mutex::new(options.record.as_ref().map(|path| {
        std::fs::OpenOptions::new().create(true).append(true).open(path).expect("record file")
    })));
    let started = Instant::now();
    let threads: Vec<_> = (0..options.concurrency)
        .map(|thread_idx| {
            let (bodies, next, latencies, statuses, record) =
                (bodies.clone(), next.clone(), latencies.clone(), statuses.clone(), record.clone());
            let (servers, machine, secret) =
                (options.servers.clone(), machine.clone(), secret.clone());
            std::thread::spawn(move || {
                let agent = new_agent();
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(idx) else { break };
                    let server = &servers[(idx + thread_idx) % servers.len()];
                    let timestamp = (pgfarm_server::now_ms() / 1000).to_string();
                    let signature = pgfarm_server::secrets::sign(&secret, &timestamp, body);
                    let sent = Instant::now();
                    let (status, text) = call(
                        agent
                            .post(format!("{server}/api/v1/runs"))
                            .header("content-type", "application/gzip")
                            .header("x-pgfarm-machine", machine.as_str())
                            .header("x-pgfarm-timestamp", timestamp.as_str())
                            .header("x-pgfarm-signature", signature.as_str())
                            .send(&body[..]),
                    );
                    let elapsed = sent.elapsed();
                    if status == 201
                        && let Some(file) = record.lock().unwrap().as_mut()
                    {
                        use std::io::Write;
                        let uuid = serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|v| v["uuid"].as_str().map(str::to_owned))
                            .unwrap_or_default();
                        let _ = writeln!(file, "{uuid}");
                        let _ = file.flush();
                    }
                    if status != 201 {
                        eprintln!(
                            "run {idx}: {status} {}",
                            text.chars().take(200).collect::<String>()
                        );
                    }
                    latencies.lock().unwrap().push(elapsed);
                    *statuses.lock().unwrap().entry(status).or_default() += 1;
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("client thread");
    }
    let wall = started.elapsed();
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    let statuses = statuses.lock().unwrap().clone();
    let created = statuses.get(&201).copied().unwrap_or(0);
    println!(
        "{} runs of {mean_kb:.1} KB, {} clients, {} server(s): {:.0} runs/s, p50 {:?}, p95 {:?}, p99 {:?}, max {:?}; statuses {:?}",
        options.runs,
        options.concurrency,
        options.servers.len(),
        options.runs as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.95),
        pct(0.99),
        latencies.last().unwrap(),
        statuses
    );
    // Every 201 stored exactly once: page through the machine's runs and count distinct uuids.
    let mut uuids = std::collections::HashSet::new();
    let mut n_rows = 0usize;
    let mut after = String::new();
    loop {
        let (status, body) = call(
            agent
                .get(format!("{base}/api/v1/runs?machine={machine}&limit=500&after={after}"))
                .call(),
        );
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).expect("page");
        for item in page["items"].as_array().expect("items") {
            n_rows += 1;
            uuids.insert(item["uuid"].as_str().unwrap_or_default().to_owned());
        }
        match page["next"].as_str() {
            Some(cursor) => after = cursor.to_owned(),
            None => break,
        }
    }
    println!(
        "201 answers {created}; stored runs of this machine {n_rows}, distinct {}: {}",
        uuids.len(),
        if n_rows == created && uuids.len() == created { "exactly once" } else { "MISMATCH" }
    );
}
