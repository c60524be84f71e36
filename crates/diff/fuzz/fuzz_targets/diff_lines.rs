//! Fuzz target: `diff_bytes` and every renderer on arbitrary input never panic, and the
//! renderings agree with each other (the hunks rebuild the actual text in exact mode, the
//! normal format's size is `n_normal_diff_lines`, a text never differs from itself). Also
//! feeds the input to the resultmap parser and the platform pattern matcher.
//! Run: `cargo +nightly fuzz run diff_lines` in crates/diff/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgfarm_diff::{
    Labels, LineKind, Options, Resultmap, Whitespace, closest_expected_bytes, diff_bytes,
    platform_matches,
};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else { return };
    let whitespace = Whitespace::ALL[usize::from(control % 3)];
    let context = usize::from(control >> 2 & 7);
    // Split the rest at the first 0xff byte (or the middle) into expected and actual.
    let split = rest.iter().position(|&byte| byte == 0xff).unwrap_or(rest.len() / 2);
    let (expected, actual) = (&rest[..split], &rest[(split + 1).min(rest.len())..]);
    let options = Options::new().whitespace(whitespace);

    let diff = diff_bytes(expected, actual, &options);
    assert!(diff_bytes(expected, expected, &options).is_empty());
    assert_eq!(diff.is_empty(), diff.n_changed_lines() == 0);

    let labels = Labels { expected: "e", actual: "a" };
    let mut unified = String::new();
    diff.write_unified(&mut unified, &labels, context).unwrap();
    let mut context_format = String::new();
    diff.write_context(&mut context_format, &labels, context).unwrap();
    let mut normal = String::new();
    diff.write_normal(&mut normal).unwrap();
    assert_eq!(normal.matches('\n').count(), diff.n_normal_diff_lines());
    let mut side_by_side = String::new();
    diff.write_side_by_side(&mut side_by_side, 20, context).unwrap();
    let rows = diff.side_by_side();
    assert_eq!(rows.iter().filter(|row| row.left.is_some()).count(), diff.n_expected_lines());
    assert_eq!(rows.iter().filter(|row| row.right.is_some()).count(), diff.n_actual_lines());

    if whitespace == Whitespace::Exact {
        // Rebuild the actual bytes from the expected bytes and the hunks.
        let expected_lines: Vec<&[u8]> = expected.split_inclusive(|&byte| byte == b'\n').collect();
        let mut rebuilt: Vec<u8> = Vec::new();
        let mut next = 0;
        for hunk in diff.hunks(context) {
            for line in &expected_lines[next..hunk.expected.start] {
                rebuilt.extend_from_slice(line);
            }
            for line in diff.hunk_lines(&hunk) {
                if line.kind != LineKind::Removed {
                    rebuilt.extend_from_slice(line.bytes);
                    if !line.missing_newline {
                        rebuilt.push(b'\n');
                    }
                }
            }
            next = hunk.expected.end;
        }
        for line in &expected_lines[next..] {
            rebuilt.extend_from_slice(line);
        }
        assert_eq!(rebuilt, actual);
    }

    let choice = closest_expected_bytes(actual, [expected, actual], &options).unwrap();
    assert!(choice.matched);

    let text = String::from_utf8_lossy(data);
    let _ = Resultmap::parse(&text);
    let middle = text.char_indices().map(|(idx, _)| idx).nth(text.chars().count() / 2).unwrap_or(text.len());
    let (platform, pattern) = text.split_at(middle);
    let _ = platform_matches(platform, pattern);
});
