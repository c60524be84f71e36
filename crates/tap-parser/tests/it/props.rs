//! Property tests: never panics on arbitrary bytes, chunking never changes events, spans are
//! in bounds and cover the input, and the writer's output re-parses to the same summary.

use pgfarm_tap_parser::{
    Event, Options, Parser, PushParser, Span, Summary, TapVersion, summarize, write_tap,
};
use proptest::prelude::*;

fn options(pgtap: bool, small_limits: bool) -> Options {
    if small_limits {
        Options { pgtap, max_depth: 3, max_yaml_bytes: 40, max_line_bytes: 24 }
    } else {
        Options { pgtap, ..Options::default() }
    }
}

fn pull(input: &[u8], options: Options) -> Vec<(Event<'static>, Span)> {
    Parser::from_bytes_with_options(input, options)
        .spanned()
        .map(|(e, s)| (e.into_owned(), s))
        .collect()
}

fn push(input: &[u8], cuts: &[usize], options: Options) -> Vec<(Event<'static>, Span)> {
    let mut parser = PushParser::with_options(options);
    let mut events = Vec::new();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut start = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        parser.push(&input[start..cut], |e, s| events.push((e.into_owned(), s)));
        start = cut;
    }
    parser.finish(|e, s| events.push((e.into_owned(), s)));
    events
}

/// Lines that look like TAP, so that the generated streams reach deep parser states.
fn tap_line() -> impl Strategy<Value = String> {
    let indent = prop::sample::select(vec!["", "", "", "    ", "        ", "  ", " "]);
    let body = prop_oneof![
        (
            any::<bool>(),
            prop::option::of(0u64..6),
            "[a-z #\\\\{]{0,12}",
            prop::option::of(prop::sample::select(vec![
                " # SKIP",
                " # todo why",
                " # skipped: x",
                " #TODO"
            ]))
        )
            .prop_map(|(ok, id, desc, dir)| {
                let mut line = String::from(if ok { "ok" } else { "not ok" });
                if let Some(id) = id {
                    line.push_str(&format!(" {id}"));
                }
                if !desc.is_empty() {
                    line.push_str(" - ");
                    line.push_str(&desc);
                }
                line.push_str(dir.unwrap_or(""));
                line
            }),
        (0u64..4, 0u64..5, prop::option::of("[a-z#\\\\ ]{0,6}")).prop_map(|(a, b, r)| match r {
            Some(r) => format!("{a}..{b} # {r}"),
            None => format!("{a}..{b}"),
        }),
        prop::sample::select(vec![
            "TAP version 14",
            "TAP version 13",
            "# Subtest: a",
            "# Subtest",
            "# Subtest: b()",
            "  ---",
            "  ...",
            "  got: 1",
            "{",
            "}",
            "Bail out! why \\#",
            "pragma +strict",
            "pragma -strict",
            "# comment",
            "# Failed test 1: \"x\"",
            "#     have: 1",
            "# Looks like you failed",
            "garbage",
            "",
            "\t",
        ])
        .prop_map(str::to_string),
    ];
    (indent, body).prop_map(|(indent, body)| format!("{indent}{body}"))
}

fn tap_stream() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(tap_line(), 0..40), prop::sample::select(vec!["\n", "\r\n", "\r"]))
        .prop_map(|(lines, eol)| lines.join(eol).into_bytes())
}

/// ok, count, pass, fail, todo, skip, bailout, plan, failed ids.
type Key = (bool, u64, u64, u64, u64, u64, Option<String>, Option<(u64, u64, bool)>, Vec<u64>);

fn key(summary: &Summary) -> Key {
    (
        summary.ok,
        summary.count,
        summary.pass,
        summary.fail,
        summary.todo,
        summary.skip,
        summary.bailout.clone(),
        summary.plan.as_ref().map(|p| (p.start, p.end, p.skip_all)),
        summary.failures.iter().map(|f| f.id).collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..400), pgtap: bool, small: bool) {
        let summary = summarize(Parser::from_bytes_with_options(&input, options(pgtap, small)));
        prop_assert!(summary.count >= summary.pass);
    }

    #[test]
    fn push_with_any_chunking_equals_pull(input in tap_stream(), cuts in prop::collection::vec(any::<usize>(), 0..8), pgtap: bool, small: bool) {
        let options = options(pgtap, small);
        prop_assert_eq!(push(&input, &cuts, options), pull(&input, options));
    }

    #[test]
    fn push_equals_pull_on_arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..300), cuts in prop::collection::vec(any::<usize>(), 0..8), small: bool) {
        let options = options(false, small);
        prop_assert_eq!(push(&input, &cuts, options), pull(&input, options));
    }

    #[test]
    fn spans_are_in_bounds_in_order_and_cover_the_input(input in tap_stream(), pgtap: bool, small: bool) {
        let mut covered = Vec::new();
        let mut last_end = 0;
        for (_, span) in Parser::from_bytes_with_options(&input, options(pgtap, small)).spanned() {
            prop_assert!(span.start <= span.end && span.end <= input.len());
            prop_assert!(span.start >= last_end || span.is_empty(), "span {:?} before {}", span, last_end);
            if !span.is_empty() {
                prop_assert_eq!(span.start, last_end, "line spans are contiguous");
                covered.extend_from_slice(&input[span.clone()]);
                last_end = span.end;
            }
        }
        prop_assert_eq!(covered, input);
    }

    #[test]
    fn written_tap_reparses_to_the_same_summary(input in tap_stream(), pgtap: bool, v13: bool) {
        let options = options(pgtap, false);
        let original = summarize(Parser::from_bytes_with_options(&input, options));
        let version = if v13 { TapVersion::V13 } else { TapVersion::V14 };
        let written = write_tap(Parser::from_bytes_with_options(&input, options), version);
        let again = summarize(Parser::with_options(&written, options));
        prop_assert_eq!(key(&again), key(&original), "written TAP:\n{}", written);
    }
}
