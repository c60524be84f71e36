//! Benchmark of a cluster's whole life: create (cached initdb copy) + start + `select 1` +
//! stop + remove, run by `bench/compare.sh` next to testgres doing the same.
//!
//! Usage: `lifecycle [--pg-config PATH] [--runs 20] [--parallel 16]`; prints one line per mode
//! with the median and quartiles in milliseconds.

#![allow(clippy::print_stdout)] // reason: a benchmark program reports on stdout

use std::time::{Duration, Instant};

use pgfarm_pgnode::{Cluster, Installation, Listen};

fn one_life(
    installation: &Installation,
    phases: &mut [Duration; 4],
) -> Result<(), pgfarm_pgnode::Error> {
    let t0 = Instant::now();
    // testgres' defaults: statements logged, TCP on 127.0.0.1.
    let mut cluster = Cluster::builder(installation).listen(Listen::Localhost).init()?;
    let t1 = Instant::now();
    cluster.start()?;
    let t2 = Instant::now();
    let one: i32 = cluster.query_scalar("select 1")?;
    assert_eq!(one, 1);
    let t3 = Instant::now();
    drop(cluster);
    let t4 = Instant::now();
    phases[0] += t1 - t0;
    phases[1] += t2 - t1;
    phases[2] += t3 - t2;
    phases[3] += t4 - t3;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let q = |p: f64| ms(samples[((samples.len() - 1) as f64 * p).round() as usize]);
    format!("median {:.1} ms (p25 {:.1}, p75 {:.1}, n={})", q(0.5), q(0.25), q(0.75), samples.len())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut pg_config = None;
    let mut runs = 20usize;
    let mut parallel = 16usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pg-config" => pg_config = args.next(),
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--parallel" => parallel = args.next().ok_or("--parallel needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let installation = match pg_config {
        Some(path) => Installation::from_pg_config(path)?,
        None => Installation::find(15)?,
    };
    // Warm-up: fills the initdb cache and the page cache.
    let mut phases = [Duration::ZERO; 4];
    one_life(&installation, &mut phases)?;
    let mut phases = [Duration::ZERO; 4];
    let mut samples = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        one_life(&installation, &mut phases)?;
        samples.push(start.elapsed());
    }
    println!("pgnode  sequential: {}", summary(samples));
    let n = runs as f64;
    println!(
        "pgnode  phases (mean): init {:.1} ms, start {:.1} ms, select {:.1} ms, stop+remove {:.1} ms",
        ms(phases[0]) / n,
        ms(phases[1]) / n,
        ms(phases[2]) / n,
        ms(phases[3]) / n
    );
    if parallel > 0 {
        let start = Instant::now();
        let handles: Vec<_> = (0..parallel)
            .map(|_| {
                let installation = installation.clone();
                std::thread::spawn(move || {
                    let t = Instant::now();
                    let mut phases = [Duration::ZERO; 4];
                    one_life(&installation, &mut phases)
                        .map(|()| t.elapsed())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        let mut each = Vec::new();
        for handle in handles {
            each.push(handle.join().map_err(|_| "a thread panicked")??);
        }
        println!(
            "pgnode  parallel x{parallel}: wall {:.0} ms, per cluster {}",
            ms(start.elapsed()),
            summary(each)
        );
    }
    Ok(())
}
