//! Format version 3 additions: `Coverage` (SQL function and C line coverage of a run), the
//! build cache record `BuildCache` and the kept cluster `KeptCluster`; pure helpers over them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a `pgfarm test --coverage` run covered (format: docs/bundle-format.md, "coverage").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Coverage {
    /// The functions, procedures and aggregates the extension owns (`pg_depend` on the
    /// extension) whose calls the server counts, by signature, sorted.
    #[serde(default)]
    pub functions: Vec<FunctionCoverage>,
    /// Line and branch coverage per C source file (empty when the build had no gcov data).
    #[serde(default)]
    pub files: Vec<FileCoverage>,
}

/// One function of the extension and how often the suites called it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionCoverage {
    /// Its signature as `regprocedure` prints it with an empty `search_path`:
    /// `public.add_one(integer)`.
    pub name: String,
    /// Calls counted by `pg_stat_user_functions` (`track_functions = 'all'`), summed over the
    /// test databases; `0` means untested. For an aggregate, the calls of its transition
    /// function.
    pub calls: u64,
}

/// gcov's counts for one C source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileCoverage {
    /// The file, relative to the extension's source folder (`src/add.c`).
    pub path: String,
    /// Lines with code.
    pub lines: u32,
    /// Of those, lines run at least once.
    pub lines_covered: u32,
    /// The line numbers (1-based) of the lines with code that never ran, ascending.
    #[serde(default)]
    pub uncovered_lines: Vec<u32>,
    /// Branches.
    pub branches: u32,
    /// Of those, branches taken at least once.
    pub branches_covered: u32,
}

impl Coverage {
    /// Functions called at least once.
    pub fn functions_covered(&self) -> usize {
        self.functions.iter().filter(|f| f.calls > 0).count()
    }

    /// The functions never called.
    pub fn untested_functions(&self) -> impl Iterator<Item = &FunctionCoverage> {
        self.functions.iter().filter(|f| f.calls == 0)
    }

    /// Lines with code and lines covered, over all C files.
    pub fn line_totals(&self) -> (u64, u64) {
        self.files.iter().fold((0, 0), |(total, covered), file| {
            (total + u64::from(file.lines), covered + u64::from(file.lines_covered))
        })
    }

    /// Function coverage in percent (`None` without functions).
    pub fn function_percent(&self) -> Option<f64> {
        percent(self.functions_covered() as u64, self.functions.len() as u64)
    }

    /// Line coverage in percent over all C files (`None` without lines).
    pub fn line_percent(&self) -> Option<f64> {
        let (total, covered) = self.line_totals();
        percent(covered, total)
    }

    /// The union of several runs' coverage (the majors of one `pgfarm test`): a function's
    /// calls are summed, a C file's line is covered when any run covered it (files are matched
    /// by path; the line and branch totals are the largest seen).
    pub fn merge<'a>(runs: impl IntoIterator<Item = &'a Coverage>) -> Coverage {
        let mut functions: Vec<FunctionCoverage> = Vec::new();
        let mut files: Vec<(FileCoverage, Vec<Vec<u32>>)> = Vec::new();
        for run in runs {
            for function in &run.functions {
                match functions.iter_mut().find(|f| f.name == function.name) {
                    Some(seen) => seen.calls = seen.calls.saturating_add(function.calls),
                    None => functions.push(function.clone()),
                }
            }
            for file in &run.files {
                match files.iter_mut().find(|(f, _)| f.path == file.path) {
                    Some((seen, uncovered)) => {
                        seen.lines = seen.lines.max(file.lines);
                        seen.branches = seen.branches.max(file.branches);
                        seen.branches_covered = seen.branches_covered.max(file.branches_covered);
                        uncovered.push(file.uncovered_lines.clone());
                    }
                    None => files.push((file.clone(), vec![file.uncovered_lines.clone()])),
                }
            }
        }
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        let mut files: Vec<FileCoverage> = files
            .into_iter()
            .map(|(mut file, uncovered)| {
                // Uncovered in every run that has the file.
                let mut lines: Vec<u32> = uncovered[0]
                    .iter()
                    .copied()
                    .filter(|line| uncovered.iter().all(|u| u.binary_search(line).is_ok()))
                    .collect();
                lines.dedup();
                file.lines_covered = file.lines.saturating_sub(lines.len() as u32);
                file.uncovered_lines = lines;
                file
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Coverage { functions, files }
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// How the build cache served a run (format: docs/bundle-format.md, "build_cache").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BuildCache {
    /// The entry's key: SHA-256 (hex) of the source contents, the installation, the make
    /// variables and pgfarm's version.
    pub key: String,
    /// The build was reused from the cache (`make` did not run).
    pub build_reused: bool,
    /// `make install` did not run and no file was written: the tree had the cached files
    /// installed unchanged.
    pub install_skipped: bool,
}

/// A test cluster left running after the run (`pgfarm test --keep`; format:
/// docs/bundle-format.md, "kept").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeptCluster {
    /// Its connection URI, `postgresql://user@127.0.0.1:PORT/postgres`.
    pub uri: String,
    /// Its data directory.
    pub data_dir: String,
    /// Stopped and removed after no client was connected for this long (`None`: only on
    /// Ctrl-C/SIGTERM of the `pgfarm test` that keeps it).
    pub idle_timeout_s: Option<u64>,
    /// How to stop it, in words.
    pub stop: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, lines: u32, uncovered: &[u32]) -> FileCoverage {
        FileCoverage {
            path: path.into(),
            lines,
            lines_covered: lines - uncovered.len() as u32,
            uncovered_lines: uncovered.to_vec(),
            branches: 0,
            branches_covered: 0,
        }
    }

    #[test]
    fn merge_sums_calls_and_keeps_lines_uncovered_only_when_every_run_missed_them() {
        let a = Coverage {
            functions: vec![
                FunctionCoverage { name: "f(integer)".into(), calls: 2 },
                FunctionCoverage { name: "g()".into(), calls: 0 },
            ],
            files: vec![file("a.c", 10, &[3, 4, 9])],
        };
        let b = Coverage {
            functions: vec![
                FunctionCoverage { name: "g()".into(), calls: 0 },
                FunctionCoverage { name: "f(integer)".into(), calls: 1 },
            ],
            files: vec![file("a.c", 10, &[4, 5])],
        };
        let merged = Coverage::merge([&a, &b]);
        assert_eq!(merged.functions[0].calls, 3);
        assert_eq!(merged.functions_covered(), 1);
        assert_eq!(merged.function_percent(), Some(50.0));
        assert_eq!(
            merged.untested_functions().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["g()"]
        );
        assert_eq!(merged.files[0].uncovered_lines, vec![4]);
        assert_eq!(merged.line_totals(), (10, 9));
        assert_eq!(Coverage::default().line_percent(), None);
    }
}
