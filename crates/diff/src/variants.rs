//! pg_regress's choice among alternative expected files (`name.out`, `name_0.out` ..
//! `name_9.out`, and a `resultmap` substitute): the first one that matches, else the one whose
//! diff is smallest.

use crate::diff::{Diff, diff_bytes};
use crate::options::Options;
use crate::resultmap::Resultmap;

/// How one candidate compared with the actual output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateScore {
    /// The candidate's index in the list given to [`closest_expected`].
    pub index: usize,
    /// True when the candidate equals the actual output under the white space rule.
    pub matched: bool,
    /// The number of lines plain `diff` prints for this pair
    /// ([`Diff::n_normal_diff_lines`]); this is what pg_regress compares.
    pub n_diff_lines: usize,
    /// Removed plus added lines ([`Diff::n_changed_lines`]).
    pub n_changed_lines: usize,
}

/// The outcome of [`closest_expected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The index of the chosen candidate: the first that matched, or else the one with the
    /// fewest diff lines, the earliest one on a tie.
    pub index: usize,
    /// True when the chosen candidate matches (pg_regress reports the test as passed).
    pub matched: bool,
    /// The candidates compared, in order. Like pg_regress, comparing stops at the first match,
    /// so later candidates are absent then.
    pub scores: Vec<CandidateScore>,
}

impl Choice {
    /// The score of the chosen candidate.
    pub fn chosen(&self) -> Option<&CandidateScore> {
        self.scores.iter().find(|score| score.index == self.index)
    }
}

/// Chooses the expected text to report `actual` against, with pg_regress's rule
/// (`results_differ` in `pg_regress.c`): candidates are tried in order and the first that
/// matches wins; if none matches, the one whose plain `diff` output has the fewest lines is
/// chosen, and a later candidate must be strictly smaller to replace an earlier one.
///
/// Give the candidates in pg_regress's order, which [`expected_candidates`] computes: the
/// (possibly resultmap-substituted) expected file, its `_0` .. `_9` variants that exist, then
/// the default expected file if a substitute was used. Returns `None` for an empty list.
///
/// ```
/// use pgfarm_diff::{Options, closest_expected};
/// let actual = "SELECT 3;\n 3\n";
/// let choice = closest_expected(actual, ["SELECT 3;\n 4\n", "SELECT 3;\n 3\n"], &Options::default()).unwrap();
/// assert_eq!((choice.index, choice.matched), (1, true));
/// ```
pub fn closest_expected<'c>(
    actual: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    options: &Options,
) -> Option<Choice> {
    closest_expected_bytes(actual.as_bytes(), candidates.into_iter().map(str::as_bytes), options)
}

/// [`closest_expected`] for input that may not be UTF-8.
pub fn closest_expected_bytes<'c>(
    actual: &[u8],
    candidates: impl IntoIterator<Item = &'c [u8]>,
    options: &Options,
) -> Option<Choice> {
    let mut scores = Vec::new();
    let mut best: Option<(usize, usize)> = None;
    for (index, candidate) in candidates.into_iter().enumerate() {
        let diff: Diff<'_> = diff_bytes(candidate, actual, options);
        let score = CandidateScore {
            index,
            matched: diff.is_empty(),
            n_diff_lines: diff.n_normal_diff_lines(),
            n_changed_lines: diff.n_changed_lines(),
        };
        scores.push(score);
        if score.matched {
            return Some(Choice { index, matched: true, scores });
        }
        if best.is_none_or(|(_, best_lines)| score.n_diff_lines < best_lines) {
            best = Some((index, score.n_diff_lines));
        }
    }
    best.map(|(index, _)| Choice { index, matched: false, scores })
}

/// pg_regress's name of alternative `i` of an expected file: `_i` inserted before the last
/// `.` of the path (`expected/float8.out` → `expected/float8_1.out`). `None` when the path has
/// no `.`, where pg_regress gives up on alternatives.
pub fn alternative_expected_file(expected_file: &str, i: u8) -> Option<String> {
    let dot = expected_file.rfind('.')?;
    Some(format!("{}_{}.{}", &expected_file[..dot], i, &expected_file[dot + 1..]))
}

/// The expected files pg_regress compares a test's output with, in its order.
///
/// `default_expected_file` is the path of `expected/<test>.out` (any directory prefix is
/// kept); `test` is the test name. When `resultmap` has an entry for this test, the file type
/// (the text after the last `.` of the default file) and `platform` (a host triple such as
/// `x86_64-pc-linux-gnu`), the last such entry's file replaces the part after the last `/`.
/// The list is: that expected file, its alternatives `_0` .. `_9`, and finally the default
/// file when a substitute was used. Existence is not checked (this crate reads no files):
/// drop the names that do not exist, keeping the order, before calling [`closest_expected`].
///
/// ```
/// use pgfarm_diff::{Resultmap, expected_candidates};
/// let resultmap = Resultmap::parse("float4:out:.*-.*-cygwin.*=float4-misrounded-input.out\n")?;
/// let names = expected_candidates("float4", "expected/float4.out", Some(&resultmap), "x86_64-pc-cygwin");
/// assert_eq!(names[0], "expected/float4-misrounded-input.out");
/// assert_eq!(names[1], "expected/float4-misrounded-input_0.out");
/// assert_eq!(names.last().unwrap(), "expected/float4.out");
/// # Ok::<(), pgfarm_diff::Error>(())
/// ```
pub fn expected_candidates(
    test: &str,
    default_expected_file: &str,
    resultmap: Option<&Resultmap>,
    platform: &str,
) -> Vec<String> {
    let file_type = default_expected_file.rfind('.').map(|dot| &default_expected_file[dot + 1..]);
    let substitute = match (resultmap, file_type) {
        (Some(resultmap), Some(file_type)) => resultmap.expected_file(test, file_type, platform),
        _ => None,
    };
    let expected_file = match (substitute, default_expected_file.rfind('/')) {
        (Some(substitute), Some(slash)) => {
            format!("{}{}", &default_expected_file[..=slash], substitute)
        }
        // pg_regress only substitutes after a slash; expected files always have one there.
        _ => default_expected_file.to_owned(),
    };
    let substituted = expected_file != default_expected_file;
    let mut names = vec![expected_file.clone()];
    names.extend((0..=9).filter_map(|i| alternative_expected_file(&expected_file, i)));
    if substituted {
        names.push(default_expected_file.to_owned());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_keep_the_first_candidate() {
        // format-samples: three.out (4) and three_1.out (5) differ from the result (3) by the
        // same amount; pg_regress reports against three.out.
        let actual = "SELECT 3 AS three;\n three \n-------\n     3\n(1 row)\n\n";
        let three = "SELECT 3 AS three;\n three \n-------\n     4\n(1 row)\n\n";
        let three_1 = "SELECT 3 AS three;\n three \n-------\n     5\n(1 row)\n\n";
        let choice = closest_expected(actual, [three, three_1], &Options::default()).unwrap();
        assert_eq!((choice.index, choice.matched), (0, false));
        assert_eq!(choice.scores.len(), 2);
        assert_eq!(choice.scores[0].n_diff_lines, 4);
    }

    #[test]
    fn a_strictly_smaller_diff_wins_and_a_match_stops_the_search() {
        let choice = closest_expected(
            "a\nb\nc\n",
            ["x\ny\nz\n", "a\ny\nc\n", "a\nb\nc\n", "q\n"],
            &Options::default(),
        )
        .unwrap();
        assert_eq!((choice.index, choice.matched), (2, true));
        assert_eq!(choice.scores.len(), 3);
        let choice =
            closest_expected("a\nb\nc\n", ["x\ny\nz\n", "a\ny\nc\n"], &Options::default()).unwrap();
        assert_eq!((choice.index, choice.matched), (1, false));
        assert!(closest_expected("a\n", [], &Options::default()).is_none());
    }

    #[test]
    fn alternative_names_insert_before_the_last_dot() {
        assert_eq!(alternative_expected_file("expected/x.out", 3).unwrap(), "expected/x_3.out");
        assert_eq!(alternative_expected_file("a.b/x", 0).unwrap(), "a_0.b/x");
        assert_eq!(alternative_expected_file("x", 0), None);
    }

    #[test]
    fn candidates_without_resultmap_are_base_and_ten_alternatives() {
        let names = expected_candidates("t", "expected/t.out", None, "x86_64-pc-linux-gnu");
        assert_eq!(names.len(), 11);
        assert_eq!(names[10], "expected/t_9.out");
    }
}
