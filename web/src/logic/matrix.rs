//! The status matrix: cells of `GET /api/v1/matrix` grouped into rows (extension and platform)
//! and PostgreSQL major columns, the machine x major grid built from a run list, and the words a
//! cell shows for its latest run ("failed at regress").

use std::collections::{BTreeMap, BTreeSet};

use pgfarm_model::api::{MatrixCell, RunSummary};
use pgfarm_verdict::Cell;

/// What a matrix cell says about the latest run of an extension on a major and platform
/// (pgfarm-verdict's cell rule, shared with badges and the feed: "failed at regress",
/// "missing tests").
pub fn cell_verdict(cell: &MatrixCell) -> Cell {
    pgfarm_verdict::cell(cell.status, cell.failed_stage, cell.tested)
}

/// What a run list's row says about its run, by the same rule as [`cell_verdict`].
pub fn run_verdict(run: &RunSummary) -> Cell {
    pgfarm_verdict::cell(run.status, run.failed_stage, run.tested)
}

/// One row of the matrix: an extension on a platform, one slot per column of [`Matrix::majors`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    /// Extension name.
    pub extension: String,
    /// `os/arch`.
    pub platform: String,
    /// The latest run per PostgreSQL major, aligned with [`Matrix::majors`]; `None`: no run.
    pub cells: Vec<Option<MatrixCell>>,
}

/// The matrix extension x PostgreSQL major, one row per extension and platform.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matrix {
    /// The PostgreSQL majors present in the data, ascending: the columns.
    pub majors: Vec<i64>,
    /// Rows sorted by extension, then platform.
    pub rows: Vec<MatrixRow>,
}

impl Matrix {
    /// Groups cells; with `platform` set, only that platform's cells. When the API sent two cells
    /// for one slot (it does not), the later one in the list wins.
    pub fn from_cells(cells: &[MatrixCell], platform: Option<&str>) -> Matrix {
        let cells: Vec<&MatrixCell> =
            cells.iter().filter(|cell| platform.is_none_or(|p| cell.platform == p)).collect();
        let majors: Vec<i64> =
            cells.iter().map(|cell| cell.pg_major).collect::<BTreeSet<_>>().into_iter().collect();
        let mut rows: BTreeMap<(&str, &str), Vec<Option<MatrixCell>>> = BTreeMap::new();
        for cell in cells {
            let slots = rows
                .entry((cell.extension.as_str(), cell.platform.as_str()))
                .or_insert_with(|| vec![None; majors.len()]);
            if let Ok(column) = majors.binary_search(&cell.pg_major) {
                slots[column] = Some(cell.clone());
            }
        }
        Matrix {
            majors,
            rows: rows
                .into_iter()
                .map(|((extension, platform), cells)| MatrixRow {
                    extension: extension.to_owned(),
                    platform: platform.to_owned(),
                    cells,
                })
                .collect(),
        }
    }

    /// How many rows each extension spans (for a row header cell spanning its platforms), in row
    /// order.
    pub fn extension_spans(&self) -> Vec<(String, usize)> {
        let mut spans: Vec<(String, usize)> = Vec::new();
        for row in &self.rows {
            match spans.last_mut() {
                Some((name, count)) if *name == row.extension => *count += 1,
                _ => spans.push((row.extension.clone(), 1)),
            }
        }
        spans
    }
}

/// The platforms present in the cells, sorted (for the platform filter).
pub fn platforms(cells: &[MatrixCell]) -> Vec<String> {
    cells.iter().map(|cell| cell.platform.clone()).collect::<BTreeSet<_>>().into_iter().collect()
}

/// Cells per verdict word, for the legend ("3 ok, 2 failed").
pub fn count_by_word(cells: &[MatrixCell]) -> Vec<(&'static str, usize)> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for cell in cells {
        *counts.entry(cell_verdict(cell).word.as_str()).or_default() += 1;
    }
    crate::logic::filters::RUN_STATUSES
        .iter()
        .chain(&["missing"])
        .filter_map(|word| counts.get(word).map(|count| (*word, *count)))
        .collect()
}

/// The grid machine x PostgreSQL major of an extension (or one version of it): the latest run of
/// each machine on each major, from a run list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MachineGrid {
    /// PostgreSQL majors present, ascending.
    pub majors: Vec<i64>,
    /// Machine names, sorted, each with one slot per major.
    pub rows: Vec<(String, Vec<Option<RunSummary>>)>,
}

impl MachineGrid {
    /// Builds the grid; of several runs in one slot the one received last wins (RFC 3339 times
    /// from the server compare as text; ties keep the first in the list, which the API sorts
    /// newest first).
    pub fn from_runs(runs: &[RunSummary]) -> MachineGrid {
        let majors: Vec<i64> =
            runs.iter().map(|run| run.pg_major).collect::<BTreeSet<_>>().into_iter().collect();
        let mut rows: BTreeMap<&str, Vec<Option<RunSummary>>> = BTreeMap::new();
        for run in runs {
            let slots =
                rows.entry(run.machine.as_str()).or_insert_with(|| vec![None; majors.len()]);
            let Ok(column) = majors.binary_search(&run.pg_major) else { continue };
            let newer = match &slots[column] {
                None => true,
                Some(kept) => run.received_at > kept.received_at,
            };
            if newer {
                slots[column] = Some(run.clone());
            }
        }
        MachineGrid {
            majors,
            rows: rows.into_iter().map(|(machine, slots)| (machine.to_owned(), slots)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers of a real pgfarm-server (seeded with testdata/bundles on two machines).
    const MATRIX: &str = include_str!("fixtures/matrix.json");
    const RUNS: &str = include_str!("fixtures/runs-tiny.json");

    fn cells() -> Vec<MatrixCell> {
        serde_json::from_str(MATRIX).expect("fixtures/matrix.json is a MatrixCell list")
    }

    #[test]
    fn real_matrix_cells_group_into_extension_platform_rows_and_major_columns() {
        let cells = cells();
        let matrix = Matrix::from_cells(&cells, None);
        assert_eq!(matrix.majors, vec![13, 15, 16, 17]);
        let keys: Vec<(&str, &str)> =
            matrix.rows.iter().map(|r| (r.extension.as_str(), r.platform.as_str())).collect();
        assert_eq!(
            keys,
            vec![
                ("pgtap_samples", "linux/aarch64"),
                ("pgtap_samples", "linux/x86_64"),
                ("tiny", "linux/aarch64"),
                ("tiny", "linux/x86_64"),
            ]
        );
        // every cell lands in its own major's column, and none is lost
        let placed: usize = matrix.rows.iter().map(|r| r.cells.iter().flatten().count()).sum();
        assert_eq!(placed, cells.len());
        for row in &matrix.rows {
            for (major, cell) in matrix.majors.iter().zip(&row.cells) {
                if let Some(cell) = cell {
                    assert_eq!((cell.pg_major, &cell.platform), (*major, &row.platform));
                }
            }
        }
        // the aarch64 machine never ran PostgreSQL 13
        assert!(matrix.rows[0].cells[0].is_none());
        assert_eq!(matrix.extension_spans(), vec![("pgtap_samples".into(), 2), ("tiny".into(), 2)]);
    }

    #[test]
    fn a_platform_filter_keeps_only_its_rows_and_majors() {
        let cells = cells();
        assert_eq!(platforms(&cells), vec!["linux/aarch64", "linux/x86_64"]);
        let matrix = Matrix::from_cells(&cells, Some("linux/aarch64"));
        assert_eq!(matrix.majors, vec![15, 16, 17]);
        assert!(matrix.rows.iter().all(|row| row.platform == "linux/aarch64"));
        assert!(Matrix::from_cells(&cells, Some("nope")).rows.is_empty());
    }

    #[test]
    fn cells_say_which_stage_failed_first_and_count_by_word() {
        // The labels themselves are pgfarm-verdict's rules (its tests/rules.rs); here: the
        // fixture's cells go through them.
        let cells = cells();
        let tap = cells.iter().find(|c| c.extension == "pgtap_samples").unwrap();
        assert_eq!(cell_verdict(tap).label, "failed at tap");
        let counts = count_by_word(&cells);
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), cells.len());
        let mut cells = cells;
        let ok = cells.iter_mut().find(|c| c.status == pgfarm_model::RunStatus::Ok).unwrap();
        ok.tested = false;
        assert!(count_by_word(&cells).contains(&("missing", 1)));
    }

    #[test]
    fn the_machine_grid_keeps_the_latest_run_per_machine_and_major() {
        let page: pgfarm_model::api::Page<RunSummary> = serde_json::from_str(RUNS).unwrap();
        let grid = MachineGrid::from_runs(&page.items);
        assert_eq!(grid.majors, vec![13, 15, 16, 17]);
        let machines: Vec<&str> = grid.rows.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(machines, vec!["bookworm-x86", "trixie-arm"]);
        for (machine, slots) in &grid.rows {
            for (major, slot) in grid.majors.iter().zip(slots) {
                let Some(kept) = slot else { continue };
                assert_eq!((&kept.machine, kept.pg_major), (machine, *major));
                let newest = page
                    .items
                    .iter()
                    .filter(|r| &r.machine == machine && r.pg_major == *major)
                    .map(|r| r.received_at.as_str())
                    .max()
                    .unwrap();
                assert_eq!(kept.received_at, newest);
            }
        }
    }
}
