//! Fetches, verifies and unpacks the newest stable release of a distribution:
//!
//!     cargo run -p pgfarm-pgxn --example fetch_unpack -- BASE_URL DIST CACHE_DIR TARGET_DIR
//!
//! Prints the unpacked folder. bench/compare.sh times it beside curl + sha1sum + unzip.

use pgfarm_pgxn::{Accept, Client, UnpackLimits, unpack};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, dist, cache, target] = args.as_slice() else {
        eprintln!("usage: fetch_unpack BASE_URL DIST CACHE_DIR TARGET_DIR");
        return ExitCode::from(2);
    };
    let run = || -> Result<(), pgfarm_pgxn::Error> {
        let pgxn = Client::new(base)?;
        let release = pgxn.dist(dist)?.choose(Accept::Stable, None)?;
        let meta = pgxn.meta(&release.dist, &release.version)?;
        let zip = pgxn.download(&meta, Path::new(cache))?;
        let unpacked =
            unpack(&zip, Path::new(target), Some(&meta.top_folder()), &UnpackLimits::default())?;
        println!("{}", unpacked.root.display());
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fetch_unpack: {err}");
            ExitCode::from(2)
        }
    }
}
