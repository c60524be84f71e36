//! Line endings, lossless bytes, and the `Options` limits that bound memory on hostile input.

use pgfarm_tap_parser::{Event, Options, Parser, PushParser, Summarizer, WarningKind, summarize};

fn warnings(input: &[u8], options: Options) -> Vec<WarningKind> {
    Parser::from_bytes_with_options(input, options)
        .filter_map(|e| if let Event::Warning(w) = e { Some(w.kind) } else { None })
        .collect()
}

#[test]
fn lone_cr_and_crlf_end_lines() {
    let summary = summarize(Parser::new("1..3\rok 1\r\nok 2\nok 3\r"));
    assert!(summary.ok, "{:?}", summary.errors);
    assert_eq!(summary.count, 3);
}

#[test]
fn invalid_utf8_is_kept_byte_for_byte() {
    let input = b"1..1\nok 1 - caf\xe9 \xff\n# \xfe\n";
    let events: Vec<Event> = Parser::from_bytes(input).collect();
    let Event::TestPoint(point) = &events[1] else { panic!("{events:?}") };
    assert_eq!(point.description.as_bytes(), b"caf\xe9 \xff");
    assert_eq!(point.description.unescaped(), "caf\u{fffd} \u{fffd}");
    let Event::Comment(comment) = &events[2] else { panic!("{events:?}") };
    assert_eq!(comment.as_bytes(), b"\xfe");
}

#[test]
fn nesting_deeper_than_max_depth_is_non_tap_with_one_warning() {
    let mut input = String::new();
    for level in 0..1_000 {
        input.push_str(&" ".repeat(4 * level));
        input.push_str("ok 1\n");
    }
    let options = Options { max_depth: 16, ..Options::default() };
    let kinds = warnings(input.as_bytes(), options);
    assert_eq!(kinds.iter().filter(|k| **k == WarningKind::TooDeep).count(), 1);
    let max_depth = Parser::with_options(&input, options)
        .filter_map(|e| if let Event::SubtestStart(s) = e { Some(s.depth) } else { None })
        .max();
    assert_eq!(max_depth, Some(16));
}

#[test]
fn yaml_block_larger_than_the_limit_is_cut_off() {
    let mut input = String::from("1..1\nnot ok 1\n  ---\n");
    for i in 0..1000 {
        input.push_str(&format!("  line{i}: {}\n", "x".repeat(50)));
    }
    input.push_str("  ...\n");
    let options = Options { max_yaml_bytes: 1024, ..Options::default() };
    assert!(warnings(input.as_bytes(), options).contains(&WarningKind::YamlTooLarge));
    let yaml_lines =
        Parser::with_options(&input, options).filter(|e| matches!(e, Event::YamlLine(_))).count();
    assert!(yaml_lines < 20, "{yaml_lines} YAML lines passed the 1 KiB limit");
    let summary = summarize(Parser::with_options(&input, options));
    assert_eq!(summary.failures.len(), 1);
    assert!(summary.failures[0].yaml.as_ref().unwrap().len() <= 1024);
}

#[test]
fn push_parser_keeps_only_max_line_bytes_of_an_endless_line() {
    let options = Options { max_line_bytes: 100, ..Options::default() };
    let mut parser = PushParser::with_options(options);
    let mut longest = 0;
    let mut kinds = Vec::new();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..64 {
        parser.push(&chunk, |_, _| {});
    }
    parser.push(b"\n1..0\n", |event, span| match event {
        Event::Unknown(text) => {
            longest = longest.max(text.as_bytes().len());
            assert_eq!(span, 0..64 * 64 * 1024 + 1);
        }
        Event::Warning(w) => kinds.push(w.kind),
        _ => {}
    });
    parser.finish(|_, _| {});
    assert_eq!(longest, 100);
    assert_eq!(kinds, [WarningKind::LineTooLong]);
}

#[test]
fn yaml_of_a_failure_is_in_the_summary() {
    let mut summarizer = Summarizer::new();
    for event in Parser::new("1..1\nnot ok 1 - x\n  ---\n  found: 1\n  wanted: 2\n  ...\n") {
        summarizer.event(&event);
    }
    let summary = summarizer.finish();
    assert_eq!(summary.failures[0].yaml.as_deref(), Some("found: 1\nwanted: 2\n"));
}

#[test]
fn bail_out_in_a_nested_subtest_closes_every_level() {
    let events: Vec<Event> = Parser::new(
        "1..1\n# Subtest: a\n    # Subtest: b\n        Bail out! deep\n    ok 1\nok 1\n",
    )
    .collect();
    let ends = events.iter().filter(|e| matches!(e, Event::SubtestEnd(_))).count();
    assert_eq!(ends, 2);
    let summary = summarize(events);
    assert_eq!(summary.bailout.as_deref(), Some("deep"));
    assert_eq!(summary.count, 0, "nothing after the bail out counts");
}

#[cfg(feature = "yaml")]
#[test]
fn yaml_blocks_parse_into_values() {
    use pgfarm_tap_parser::YamlBlocks;
    let block = YamlBlocks::new(Parser::new(
        "not ok 1\n  ---\n  found: [1, 2]\n  at: { line: 17 }\n  ...\n",
    ))
    .find_map(|e| if let Event::YamlBlock(b) = e { Some(b) } else { None })
    .expect("a block");
    let value = block.parse().expect("valid YAML");
    assert_eq!(value["found"][1].as_i64(), Some(2));
    assert_eq!(value["at"]["line"].as_i64(), Some(17));
}
