//! Splitting text into lines and turning lines into tokens under a white space rule.
//!
//! Every line is hashed once (white space skipped for `-w`) and interned, so the diff algorithm
//! compares integers; equal hashes are confirmed by comparing the normalised bytes.

use std::hash::{Hash, Hasher};

use imara_diff::{Interner, Token};

use crate::options::Whitespace;

/// One line of input: its bytes without the `\n`, and whether a `\n` ended it (only the last line
/// of a file can lack one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub(crate) text: &'a [u8],
    pub(crate) newline: bool,
}

/// Splits `input` at `\n` the way `diff` reads a file: `"a\nb"` has two lines, the second one
/// without newline; `""` has none.
pub(crate) fn split_lines(input: &[u8]) -> Vec<Line<'_>> {
    // Regression outputs average 30-40 bytes a line; over-estimating costs one reallocation less.
    let mut lines = Vec::with_capacity(input.len() / 32 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', input) {
        lines.push(Line { text: &input[start..end], newline: true });
        start = end + 1;
    }
    if start < input.len() {
        lines.push(Line { text: &input[start..], newline: false });
    }
    lines
}

/// C `isspace` in the C locale, which is what GNU `diff -w` skips.
#[inline]
pub(crate) fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A line as the diff algorithm sees it: equality and hashing follow the white space rule.
#[derive(Debug, Clone, Copy)]
struct LineKey<'a> {
    hash: u64,
    text: &'a [u8],
    newline: bool,
    whitespace: Whitespace,
}

impl<'a> LineKey<'a> {
    fn new(line: Line<'a>, whitespace: Whitespace) -> LineKey<'a> {
        let (text, newline) = match whitespace {
            Whitespace::Exact => (line.text, line.newline),
            Whitespace::StripTrailingCr => {
                // `--strip-trailing-cr` drops a CR only when a newline follows it.
                let text = match line.text {
                    [rest @ .., b'\r'] if line.newline => rest,
                    text => text,
                };
                (text, line.newline)
            }
            // The newline is white space too: "c" at end of file equals "c\n".
            Whitespace::IgnoreAll => (line.text, true),
        };
        let hash = match whitespace {
            Whitespace::IgnoreAll => hash_skipping_space(text),
            Whitespace::Exact | Whitespace::StripTrailingCr => hash_bytes(text, newline),
        };
        LineKey { hash, text, newline, whitespace }
    }
}

impl PartialEq for LineKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        if self.hash != other.hash {
            return false;
        }
        match self.whitespace {
            Whitespace::IgnoreAll => {
                self.text == other.text
                    || self
                        .text
                        .iter()
                        .filter(|&&byte| !is_c_space(byte))
                        .eq(other.text.iter().filter(|&&byte| !is_c_space(byte)))
            }
            Whitespace::Exact | Whitespace::StripTrailingCr => {
                self.newline == other.newline && self.text == other.text
            }
        }
    }
}

impl Eq for LineKey<'_> {}

impl Hash for LineKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(26) ^ word).wrapping_mul(MULTIPLIER)
}

/// A word-at-a-time hash of the whole line (FxHash-style mixing; collisions are resolved by
/// comparing bytes, so only speed depends on its quality).
fn hash_bytes(text: &[u8], newline: bool) -> u64 {
    let mut hash = (text.len() as u64) ^ u64::from(newline) << 63;
    let mut chunks = text.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    mix(mix(hash, u64::from_le_bytes(tail)), 0x2d)
}

/// The hash of the line's bytes with C white space removed, packing eight kept bytes per word.
fn hash_skipping_space(text: &[u8]) -> u64 {
    let mut hash = 0x5bd1_e995_u64;
    let mut word = 0u64;
    let mut n_in_word = 0u32;
    let mut n_kept = 0u64;
    for &byte in text {
        if is_c_space(byte) {
            continue;
        }
        word |= u64::from(byte) << (8 * n_in_word);
        n_in_word += 1;
        n_kept += 1;
        if n_in_word == 8 {
            hash = mix(hash, word);
            word = 0;
            n_in_word = 0;
        }
    }
    mix(mix(hash, word), n_kept)
}

/// The hash of a line under `whitespace`: equal lines (under that rule) have equal hashes.
fn line_hash(line: Line<'_>, whitespace: Whitespace) -> u64 {
    LineKey::new(line, whitespace).hash
}

/// Tokens from hashes alone: lines with equal 64-bit hashes get the same token, without
/// comparing their bytes. Sorting the (hash, position) pairs keeps memory access sequential,
/// which is several times faster than a hash table once the lines outgrow the CPU caches. A
/// hash collision could make two different lines share a token, so the caller must check the
/// lines the diff aligns ([`lines_equal`]) and fall back to [`tokenize`] if any differ.
pub(crate) fn tokenize_by_hash(
    expected: &[Line<'_>],
    actual: &[Line<'_>],
    whitespace: Whitespace,
) -> Tokens {
    let n_lines = expected.len() + actual.len();
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(n_lines);
    // Positions fit in u32: the caller limits each side to i32::MAX lines.
    keyed.extend(
        expected
            .iter()
            .chain(actual)
            .enumerate()
            .map(|(idx, &line)| (line_hash(line, whitespace), idx as u32)),
    );
    sort_by_hash(&mut keyed);
    let mut tokens = vec![Token(0); n_lines];
    let mut n_distinct = 0u32;
    let mut previous_hash = None;
    for &(hash, idx) in &keyed {
        if previous_hash != Some(hash) {
            previous_hash = Some(hash);
            n_distinct += 1;
        }
        tokens[idx as usize] = Token(n_distinct - 1);
    }
    let actual_tokens = tokens.split_off(expected.len());
    Tokens { expected: tokens, actual: actual_tokens, n_distinct }
}

/// Sorts `(hash, position)` pairs in linear time for well-mixed hashes: one counting pass and
/// one scatter pass into buckets by the top bits of the hash, then a small sort per bucket
/// (about 8 pairs each). A comparison sort of the whole array took a fifth of the time of a
/// 1,000,000-line diff.
fn sort_by_hash(keyed: &mut Vec<(u64, u32)>) {
    if keyed.len() < 1024 {
        keyed.sort_unstable();
        return;
    }
    let bucket_bits = (usize::BITS - (keyed.len() / 8).leading_zeros()).min(24);
    let shift = 64 - bucket_bits;
    let mut starts = vec![0usize; (1 << bucket_bits) + 1];
    for &(hash, _) in keyed.iter() {
        starts[(hash >> shift) as usize + 1] += 1;
    }
    for bucket in 1..starts.len() {
        starts[bucket] += starts[bucket - 1];
    }
    let mut sorted = vec![(0u64, 0u32); keyed.len()];
    let mut next = starts.clone();
    for &pair in keyed.iter() {
        let bucket = (pair.0 >> shift) as usize;
        sorted[next[bucket]] = pair;
        next[bucket] += 1;
    }
    for bucket in starts.windows(2) {
        sorted[bucket[0]..bucket[1]].sort_unstable();
    }
    *keyed = sorted;
}

/// Both sides as token sequences, ready for the diff algorithm.
pub(crate) struct Tokens {
    pub(crate) expected: Vec<Token>,
    pub(crate) actual: Vec<Token>,
    pub(crate) n_distinct: u32,
}

/// Interns every line of both sides; lines equal under `whitespace` get the same token.
pub(crate) fn tokenize<'a>(
    expected: &[Line<'a>],
    actual: &[Line<'a>],
    whitespace: Whitespace,
) -> Tokens {
    let mut interner: Interner<LineKey<'a>> = Interner::new(expected.len() + actual.len());
    let mut intern_all = |lines: &[Line<'a>]| -> Vec<Token> {
        lines.iter().map(|&line| interner.intern(LineKey::new(line, whitespace))).collect()
    };
    let expected = intern_all(expected);
    let actual = intern_all(actual);
    Tokens { expected, actual, n_distinct: interner.num_tokens() }
}

/// Whether two lines are equal under `whitespace` (the rule [`tokenize`] applies), comparing
/// bytes without hashing.
pub(crate) fn lines_equal(left: Line<'_>, right: Line<'_>, whitespace: Whitespace) -> bool {
    match whitespace {
        Whitespace::Exact => left == right,
        Whitespace::StripTrailingCr => {
            fn strip(line: Line<'_>) -> &[u8] {
                match line.text {
                    [rest @ .., b'\r'] if line.newline => rest,
                    text => text,
                }
            }
            left.newline == right.newline && strip(left) == strip(right)
        }
        Whitespace::IgnoreAll => {
            left.text == right.text
                || left
                    .text
                    .iter()
                    .filter(|&&byte| !is_c_space(byte))
                    .eq(right.text.iter().filter(|&&byte| !is_c_space(byte)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_equal(left: &str, right: &str, whitespace: Whitespace, expect: bool) {
        let left = split_lines(left.as_bytes());
        let right = split_lines(right.as_bytes());
        assert_eq!(left.len(), 1);
        assert_eq!(right.len(), 1);
        assert_eq!(lines_equal(left[0], right[0], whitespace), expect, "{left:?} vs {right:?}");
    }

    #[test]
    fn hash_tokens_partition_lines_like_byte_comparison() {
        let expected = "a\n a\na \nb\r\n\n  \nx\ty\nxy\nsame\nsame\nlast";
        let actual = "a\nb\nxy\n \nsame\r\nlast\n";
        let (expected, actual) = (split_lines(expected.as_bytes()), split_lines(actual.as_bytes()));
        for whitespace in Whitespace::ALL {
            let by_hash = tokenize_by_hash(&expected, &actual, whitespace);
            let by_bytes = tokenize(&expected, &actual, whitespace);
            let all_lines: Vec<Line<'_>> = expected.iter().chain(&actual).copied().collect();
            let hash_tokens: Vec<_> = by_hash.expected.iter().chain(&by_hash.actual).collect();
            let byte_tokens: Vec<_> = by_bytes.expected.iter().chain(&by_bytes.actual).collect();
            assert_eq!(by_hash.n_distinct, by_bytes.n_distinct, "{whitespace}");
            for i in 0..all_lines.len() {
                for j in 0..all_lines.len() {
                    let equal = lines_equal(all_lines[i], all_lines[j], whitespace);
                    assert_eq!(hash_tokens[i] == hash_tokens[j], equal, "{whitespace} {i} {j}");
                    assert_eq!(byte_tokens[i] == byte_tokens[j], equal, "{whitespace} {i} {j}");
                }
            }
        }
    }

    #[test]
    fn bucket_sort_sorts() {
        let mut keyed: Vec<(u64, u32)> =
            (0..5000u32).map(|idx| (u64::from(idx % 777).wrapping_mul(MULTIPLIER), idx)).collect();
        let mut expected = keyed.clone();
        expected.sort_unstable();
        sort_by_hash(&mut keyed);
        assert_eq!(keyed, expected);
    }

    #[test]
    fn split_lines_marks_a_missing_final_newline() {
        let lines = split_lines(b"a\n\nb");
        assert_eq!(
            lines,
            vec![
                Line { text: b"a", newline: true },
                Line { text: b"", newline: true },
                Line { text: b"b", newline: false },
            ]
        );
        assert!(split_lines(b"").is_empty());
        assert_eq!(split_lines(b"\n"), vec![Line { text: b"", newline: true }]);
    }

    #[test]
    fn exact_mode_distinguishes_trailing_blanks_cr_and_newline() {
        check_equal("a b\n", "a b\n", Whitespace::Exact, true);
        check_equal("a b \n", "a b\n", Whitespace::Exact, false);
        check_equal("a\r\n", "a\n", Whitespace::Exact, false);
        check_equal("a", "a\n", Whitespace::Exact, false);
    }

    #[test]
    fn strip_trailing_cr_drops_only_a_cr_before_newline() {
        check_equal("a\r\n", "a\n", Whitespace::StripTrailingCr, true);
        check_equal("a\r", "a", Whitespace::StripTrailingCr, false);
        check_equal("a \r\n", "a\n", Whitespace::StripTrailingCr, false);
        check_equal("a\r\r\n", "a\r\n", Whitespace::StripTrailingCr, false);
    }

    #[test]
    fn ignore_all_skips_every_c_space_and_the_final_newline() {
        check_equal("ab\n", "a b\n", Whitespace::IgnoreAll, true);
        check_equal("a\x0bb\x0c\r\n", "ab", Whitespace::IgnoreAll, true);
        check_equal("   \n", "\n", Whitespace::IgnoreAll, true);
        check_equal("abcdefghij\n", "abcdefgh ij\n", Whitespace::IgnoreAll, true);
        check_equal("ab\n", "a c\n", Whitespace::IgnoreAll, false);
        // Non-breaking space is not C white space.
        check_equal("a\u{a0}b\n", "ab\n", Whitespace::IgnoreAll, false);
    }
}
