//! `pgfarm test --coverage`: the SQL-level function counts, read after each suite stage from
//! every test database (`track_functions = 'all'`, `pg_stat_user_functions` joined with the
//! extension's `pg_depend` entries), and the C line and branch counts of a `PROFILE=--coverage`
//! build, read with gcov's JSON output once the cluster stopped cleanly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pgfarm_model::{Coverage, FileCoverage, FunctionCoverage};

use super::Job;
use crate::error::Result;
use crate::process::Spawn;

/// Per function signature, per test database (name and oid, so a database dropped and made
/// again counts apart), the calls last seen.
pub(super) type FunctionCounts = BTreeMap<String, BTreeMap<(String, u32), u64>>;

/// The extension's functions whose calls the server counts, with their calls, as `calls name`
/// lines; an aggregate counts its transition function's calls. Names print schema-qualified
/// (empty `search_path`).
pub fn functions_query(extension: &str) -> String {
    format!(
        "SET search_path = ''; \
         SELECT coalesce(s.calls, 0)::text || ' ' || p.oid::regprocedure::text \
         FROM pg_depend d \
         JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid \
         JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid \
         LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid \
         JOIN pg_proc counted ON counted.oid = coalesce(a.aggtransfn::oid, p.oid) \
         JOIN pg_language l ON l.oid = counted.prolang \
         LEFT JOIN pg_stat_user_functions s ON s.funcid = counted.oid \
         WHERE e.extname = '{}' AND d.deptype = 'e' AND l.lanname <> 'internal' \
         ORDER BY 1",
        extension.replace('\'', "''")
    )
}

impl Job<'_> {
    /// Reads the function counts of every database of the cluster into `self.function_calls`
    /// (after a suite stage: the suites' sessions have ended and flushed their counts).
    pub(super) fn snapshot_functions(&mut self, log: &mut String) -> Result<()> {
        let Some(cluster) = self.cluster.as_ref() else { return Ok(()) };
        // Sessions flush their counters when they end: wait (briefly) for the suites' last ones.
        let deadline = Instant::now() + Duration::from_secs(3);
        let busy = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";
        while Instant::now() < deadline {
            match cluster.query_scalar::<i64>(busy) {
                Ok(0) | Err(_) => break,
                Ok(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        // Before PostgreSQL 15 a collector process gathers the counts, and a session reads its
        // file when it is at most 500 ms old (PGSTAT_STAT_INTERVAL): let it catch up.
        if self.installation.major() < 15 {
            std::thread::sleep(Duration::from_millis(600));
        }
        let databases = cluster.execute(
            "SELECT datname, oid::int8 FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1",
        )?;
        let query = functions_query(&self.source.name);
        let mut seen = 0;
        for row in databases {
            let (name, oid): (String, i64) = (row.get(0), row.get(1));
            let mut ignored = String::new();
            let Ok(Ok(out)) = self.sql(&name, &query, &mut ignored) else { continue };
            for line in out.lines() {
                let Some((calls, function)) = line.split_once(' ') else { continue };
                let calls: u64 = calls.parse().unwrap_or(0);
                seen += 1;
                self.function_calls
                    .entry(function.to_owned())
                    .or_default()
                    .insert((name.clone(), oid as u32), calls);
            }
        }
        log.push_str(&format!("coverage: read {seen} function counters\n"));
        Ok(())
    }

    /// The run's coverage: the functions seen, and (when `with_c`: the cluster stopped) gcov's
    /// counts for the build, and those as an lcov tracefile (empty without C data).
    pub(super) fn coverage(&self, with_c: bool) -> (Coverage, String) {
        let functions = self
            .function_calls
            .iter()
            .map(|(name, per_db)| FunctionCoverage {
                name: name.clone(),
                calls: per_db.values().sum(),
            })
            .collect();
        let (files, lcov) = if with_c {
            let root = std::fs::canonicalize(&self.source.root).unwrap_or(self.source.root.clone());
            gcov(&self.src, &root)
        } else {
            (Vec::new(), String::new())
        };
        (Coverage { functions, files }, lcov)
    }
}

/// gcov's JSON for every `.gcda` file under `src`, merged per source file of the extension
/// (files outside `src`, such as PostgreSQL's headers, are left out), and the same as an lcov
/// tracefile (`coverage.info`: `SF` under `source_root`, the extension's own folder, then
/// `DA`, `BRF`/`BRH` and `LF`/`LH` per file).
pub fn gcov(src: &Path, source_root: &Path) -> (Vec<FileCoverage>, String) {
    let mut gcda = Vec::new();
    find_gcda(src, &mut gcda);
    let src_canonical = std::fs::canonicalize(src).unwrap_or_else(|_| src.to_path_buf());
    // Per file: line -> (covered, branches, branches taken), and its hit count.
    let mut lines: BTreeMap<String, BTreeMap<u32, (bool, u32, u32)>> = BTreeMap::new();
    let mut hits: BTreeMap<(String, u32), u64> = BTreeMap::new();
    for file in gcda {
        let Some(dir) = file.parent() else { continue };
        let spawn = Spawn::new("gcov")
            .args(["--json-format", "--stdout", "--branch-probabilities", "--object-directory"])
            .arg(dir)
            .arg(&file)
            .current_dir(dir);
        let Ok((status, stdout, _)) = spawn.output() else { continue };
        if !status.success() {
            continue;
        }
        for document in stdout.lines().filter(|l| l.starts_with('{')) {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(document) else { continue };
            let cwd = json["current_working_directory"].as_str().map(PathBuf::from);
            for source in json["files"].as_array().into_iter().flatten() {
                let Some(name) = source["file"].as_str() else { continue };
                let path = match &cwd {
                    Some(cwd) if Path::new(name).is_relative() => cwd.join(name),
                    _ => PathBuf::from(name),
                };
                let path = std::fs::canonicalize(&path).unwrap_or(path);
                let Ok(rel) = path.strip_prefix(&src_canonical) else { continue };
                let rel = rel.display().to_string();
                let per_line = lines.entry(rel.clone()).or_default();
                for line in source["lines"].as_array().into_iter().flatten() {
                    let Some(number) = line["line_number"].as_u64() else { continue };
                    let count = line["count"].as_u64().unwrap_or(0);
                    let branches = line["branches"].as_array();
                    let total = branches.map_or(0, Vec::len) as u32;
                    let taken = branches.map_or(0, |b| {
                        b.iter().filter(|b| b["count"].as_u64().unwrap_or(0) > 0).count()
                    }) as u32;
                    *hits.entry((rel.clone(), number as u32)).or_default() += count;
                    let entry = per_line.entry(number as u32).or_insert((false, 0, 0));
                    entry.0 |= count > 0;
                    entry.1 = entry.1.max(total);
                    entry.2 = entry.2.max(taken);
                }
            }
        }
    }
    let mut lcov = String::new();
    for (path, per_line) in &lines {
        lcov.push_str(&format!("TN:\nSF:{}\n", source_root.join(path).display()));
        for line in per_line.keys() {
            let count = hits.get(&(path.clone(), *line)).copied().unwrap_or(0);
            lcov.push_str(&format!("DA:{line},{count}\n"));
        }
        let branches: u32 = per_line.values().map(|(_, total, _)| total).sum();
        let taken: u32 = per_line.values().map(|(_, _, taken)| taken).sum();
        let covered = per_line.values().filter(|(covered, _, _)| *covered).count();
        lcov.push_str(&format!(
            "BRF:{branches}\nBRH:{taken}\nLF:{}\nLH:{covered}\nend_of_record\n",
            per_line.len()
        ));
    }
    let files = lines
        .into_iter()
        .map(|(path, per_line)| FileCoverage {
            path,
            lines: per_line.len() as u32,
            lines_covered: per_line.values().filter(|(covered, _, _)| *covered).count() as u32,
            uncovered_lines: per_line
                .iter()
                .filter(|(_, (covered, _, _))| !covered)
                .map(|(line, _)| *line)
                .collect(),
            branches: per_line.values().map(|(_, total, _)| total).sum(),
            branches_covered: per_line.values().map(|(_, _, taken)| taken).sum(),
        })
        .collect();
    (files, lcov)
}

fn find_gcda(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => find_gcda(&path, out),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "gcda") => out.push(path),
            _ => {}
        }
    }
}
