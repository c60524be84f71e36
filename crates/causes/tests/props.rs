//! The classifier never panics, and the line it names is a line of the input.

use proptest::prelude::*;

fn log_lines() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "error: ",
        "fatal error: ",
        "No such file or directory",
        "make: ",
        "sh: 1: ",
        ": not found",
        "PANIC:  ",
        "ERROR:  ",
        "does not exist",
        "terminated by signal 11",
        "+",
        "-",
        "@@",
        "\r",
        "é",
        "\u{0}",
        "shared_preload_libraries must",
        "#error",
        "*** ",
        "Stop.",
        "postgres version",
        "undefined symbol: ",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_owned), "[ -~]{0,12}", Just("\n".to_owned())],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn the_line_is_from_the_log(log in log_lines()) {
        let found = pgfarm_causes::classify(&log);
        match found.line {
            None => prop_assert_eq!(found.cause, pgfarm_causes::Cause::Unknown),
            Some(line) => {
                let text = log.lines().nth(line.number - 1).unwrap();
                prop_assert_eq!(text.strip_suffix('\r').unwrap_or(text), line.text);
                prop_assert_ne!(found.cause, pgfarm_causes::Cause::Unknown);
                // the chosen line is also what matches() reports for it
                let listed = pgfarm_causes::matches(&log).find(|f| f.line == found.line);
                prop_assert_eq!(listed.map(|f| f.cause), Some(found.cause));
            }
        }
    }
}
