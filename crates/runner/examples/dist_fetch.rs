//! What `pgfarm test` does with a distribution argument before any stage runs, for
//! bench/pgxn.sh:
//!
//!     cargo run -p pgfarm-runner --example dist_fetch -- fetch BASE_URL SOURCE CACHE_DIR INTO_DIR
//!     cargo run -p pgfarm-runner --example dist_fetch -- mirror MIRROR_DIR EXT_DIR...
//!
//! `fetch` parses SOURCE (`pgxn:NAME`, FILE.zip, URL.zip) with `dist::Target`, fetches, verifies
//! and unpacks it with `dist::fetch` and prints the unpacked folder; `mirror` publishes extension
//! folders as stable releases into a mirror folder (`pgfarm_pgxn::mirror`).

use std::path::PathBuf;
use std::process::ExitCode;

use pgfarm_runner::dist::{self, Accept, FetchOptions, Mirror, Target};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["fetch", base, source, cache, into] => fetch(base, source, cache, into),
        ["mirror", out, sources @ ..] if !sources.is_empty() => mirror(out, sources),
        _ => Err("usage: dist_fetch fetch BASE SOURCE CACHE INTO | mirror OUT EXT_DIR...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dist_fetch: {err}");
            ExitCode::from(2)
        }
    }
}

fn fetch(base: &str, source: &str, cache: &str, into: &str) -> Result<(), String> {
    let target = Target::parse(source).map_err(|e| e.to_string())?;
    let options = FetchOptions {
        mirror: Mirror { base: base.into(), accept: Accept::Stable, cache: PathBuf::from(cache) },
        into: PathBuf::from(into),
        limits: Default::default(),
    };
    let fetched = dist::fetch(&target, &options).map_err(|e| e.to_string())?;
    let fetched = fetched.ok_or("not a distribution")?;
    println!("{} {}", fetched.root.display(), fetched.release.sha1);
    Ok(())
}

fn mirror(out: &str, sources: &[&str]) -> Result<(), String> {
    use pgfarm_pgxn::mirror::{Mirror, MirrorRelease};
    let m = Mirror::create(out.as_ref()).map_err(|e| e.to_string())?;
    for source in sources {
        let published = m
            .add(&MirrorRelease {
                source: PathBuf::from(source),
                status: None,
                date: Some("2026-01-01T00:00:00Z".into()),
                user: "bench".into(),
                version: None,
                license: None,
            })
            .map_err(|e| e.to_string())?;
        println!("{} {} {}", published.dist, published.version, published.zip.display());
    }
    Ok(())
}
