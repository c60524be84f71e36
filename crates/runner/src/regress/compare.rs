//! Comparing a test's result with its expected output, as pg_regress's `results_differ`
//! does: the expected file (after resultmap, looked up in the output directory first), its
//! `_0`..`_9` variants, the first exact match or else the closest variant, and the closest
//! one's diff appended to regression.diffs in `PG_REGRESS_DIFF_OPTS`'s format.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pgfarm_diff::{Labels, Options as DiffOptions};

use super::ExpectedFile;
use super::bail::Bail;
use super::engine::Engine;

/// A test's comparison: whether it differs, what was compared and the diff written.
pub(super) struct Compared {
    pub(super) differ: bool,
    pub(super) actual: String,
    pub(super) expected: Vec<ExpectedFile>,
    pub(super) chosen: Option<usize>,
    pub(super) diff: String,
}

impl Engine<'_> {
    fn expected_file(&self, name: &str) -> PathBuf {
        let in_output = self.outputdir.join("expected").join(format!("{name}.out"));
        if in_output.is_file() {
            in_output
        } else {
            self.expecteddir.join("expected").join(format!("{name}.out"))
        }
    }

    /// pg_regress's `results_differ`: tries the expected file (after resultmap), its `_0`..`_9`
    /// variants and the default file; appends the closest one's unified diff to regression.diffs.
    pub(super) fn compare(&self, name: &str, outfile: &Path) -> Result<Compared, Bail> {
        let actual_bytes = fs::read(outfile)
            .map_err(|source| Bail::DiffRead { path: outfile.to_path_buf(), source })?;
        let actual = String::from_utf8_lossy(&actual_bytes).into_owned();
        let default_expected = self.expected_file(name).display().to_string();
        let names = pgfarm_diff::expected_candidates(
            name,
            &default_expected,
            self.resultmap.as_ref(),
            &pgfarm_diff::host_platform(),
        );
        let mut expected = Vec::new();
        for (position, candidate) in names.iter().enumerate() {
            match fs::read(candidate) {
                Ok(bytes) => expected.push(ExpectedFile {
                    path: PathBuf::from(candidate),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                }),
                // The first candidate must exist: pg_regress's diff fails on it and bails.
                Err(source) if position == 0 => {
                    return Err(Bail::DiffRead { path: PathBuf::from(candidate), source });
                }
                Err(_) => {}
            }
        }
        let options = DiffOptions::default();
        let choice = pgfarm_diff::closest_expected(
            &actual,
            expected.iter().map(|e| e.text.as_str()),
            &options,
        )
        .ok_or_else(|| Bail::NoExpectedFile { name: name.to_owned(), looked_for: names.clone() })?;
        if choice.matched {
            return Ok(Compared {
                differ: false,
                actual,
                expected,
                chosen: Some(choice.index),
                diff: String::new(),
            });
        }
        let best = &expected[choice.index];
        let expected_label = format!("{}\t{}", best.path.display(), mtime_label(&best.path));
        let actual_label = format!("{}\t{}", outfile.display(), mtime_label(outfile));
        let text = self.diff_style.render(
            (&best.path, &best.text),
            (outfile, &actual),
            &Labels { expected: &expected_label, actual: &actual_label },
        );
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&self.diffs_file)
            .map_err(|source| Bail::OpenForWriting { path: self.diffs_file.clone(), source })?;
        file.write_all(text.as_bytes())
            .map_err(|source| Bail::Write { path: self.diffs_file.clone(), source })?;
        Ok(Compared { differ: true, actual, expected, chosen: Some(choice.index), diff: text })
    }
}

/// GNU diff's header timestamp: `2026-11-22 03:36:06.813222725 +0000` (UTC).
fn mtime_label(path: &Path) -> String {
    let modified = fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
    let since = modified.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:09} +0000",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_nanos()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
