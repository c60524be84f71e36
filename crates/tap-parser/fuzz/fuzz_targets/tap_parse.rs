//! Fuzz target: arbitrary options, bytes and chunk boundaries. Checks that parsing never
//! panics, that the push front end gives the same events as the pull parser, that spans
//! cover the input, and that written TAP re-parses to the same verdict.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pgfarm_tap_parser::{Options, Parser, PushParser, TapVersion, summarize, write_tap};

#[derive(Debug, Arbitrary)]
struct Input {
    pgtap: bool,
    small_limits: bool,
    cuts: Vec<u16>,
    bytes: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let options = if input.small_limits {
        Options { pgtap: input.pgtap, max_depth: 3, max_yaml_bytes: 64, max_line_bytes: 32 }
    } else {
        Options { pgtap: input.pgtap, ..Options::default() }
    };
    let bytes = &input.bytes;
    let pulled: Vec<_> = Parser::from_bytes_with_options(bytes, options)
        .spanned()
        .map(|(e, s)| (e.into_owned(), s))
        .collect();

    let mut pushed = Vec::new();
    let mut parser = PushParser::with_options(options);
    let mut cuts: Vec<usize> =
        input.cuts.iter().map(|&c| usize::from(c) % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut start = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        parser.push(&bytes[start..cut], |e, s| pushed.push((e.into_owned(), s)));
        start = cut;
    }
    parser.finish(|e, s| pushed.push((e.into_owned(), s)));
    assert_eq!(pulled, pushed, "push and pull disagree");

    let mut covered = 0;
    for (_, span) in &pulled {
        assert!(span.end <= bytes.len());
        if !span.is_empty() {
            assert_eq!(span.start, covered, "line spans are contiguous");
            covered = span.end;
        }
    }
    assert_eq!(covered, bytes.len(), "line spans cover the input");

    if !input.small_limits {
        let summary = summarize(Parser::from_bytes_with_options(bytes, options));
        let written = write_tap(Parser::from_bytes_with_options(bytes, options), TapVersion::V14);
        let again = summarize(Parser::with_options(&written, options));
        assert_eq!(
            (summary.ok, summary.count, summary.pass, summary.fail),
            (again.ok, again.count, again.pass, again.fail),
            "{written}"
        );
    }
});
