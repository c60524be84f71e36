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

/// Whether two lines are equal under `whitespace` (the rule [`tokenize`] applies).
#[cfg(test)]
fn lines_equal(left: Line<'_>, right: Line<'_>, whitespace: Whitespace) -> bool {
    LineKey::new(left, whitespace) == LineKey::new(right, whitespace)
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
