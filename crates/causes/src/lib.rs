//! Names the cause of a failed stage from its log text, as PGXN Tester's `analyze_install_errors`
//! did: build, install, load and regress logs, and the server log.
//!
//! ```
//! use pgfarm_causes::{classify, Cause};
//!
//! let log = "x.c:4:10: fatal error: utils/rel.h: No such file or directory\ncompilation terminated.\n";
//! let finding = classify(log);
//! assert_eq!(finding.cause, Cause::MissingHeader);
//! assert_eq!(finding.cause.wire_name(), "missing_header");
//! assert_eq!(finding.line.unwrap().number, 1);
//! ```
//!
//! How a cause is chosen: every line is tested against a table of rules, each rule belonging to a
//! tier. Tier 0 are events that explain everything after them (a server crash or PANIC, running
//! out of memory or disk, a time-out); tier 1 are specific diagnostics (a missing header, a
//! missing extension, an undefined symbol); tier 2 are weak ones that only say *something* failed
//! (a compiler error without a known shape, failing tests, a compiler warning known to break
//! builds on newer compilers). The lowest tier wins, then the earliest line (the first error of
//! a build is its root cause; later ones are usually cascades), then the rule's order in the table.
//! Lines of a unified diff (`+`, `-`, `@@`) are test output, not a tool's message, and are skipped.
//! A log where nothing matches gives [`Cause::Unknown`].
//!
//! The crate is pure (no I/O, no clock) and builds for wasm32, so the dashboard classifies an
//! offline bundle's logs itself.

use std::fmt;
use std::str::FromStr;

macro_rules! causes {
    ($($variant:ident => $wire:literal, $sentence:literal;)+) => {
        /// Why a stage failed. The wire name ([`Cause::wire_name`]) is stable: it is stored by the
        /// server and used in URLs and filters.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Cause {
            $(#[doc = $sentence] $variant,)+
        }

        impl Cause {
            /// Every cause, in the order of the rule table ([`Cause::Unknown`] last).
            pub const ALL: &'static [Cause] = &[$(Cause::$variant,)+];

            /// The stable snake_case name used on the wire.
            pub fn wire_name(self) -> &'static str {
                match self { $(Cause::$variant => $wire,)+ }
            }

            /// A sentence for people, saying what went wrong.
            pub fn sentence(self) -> &'static str {
                match self { $(Cause::$variant => $sentence,)+ }
            }

            /// Whether this cause is an event that explains everything after it (a crash, a
            /// PANIC, running out of memory or disk, a time-out: the first tier of the rules),
            /// rather than a diagnostic.
            pub fn is_event(self) -> bool {
                RULES.iter().any(|rule| rule.cause == self && rule.tier == 0)
            }

            /// The cause with this wire name.
            pub fn from_wire_name(name: &str) -> Option<Cause> {
                match name { $($wire => Some(Cause::$variant),)+ _ => None }
            }
        }
    };
}

causes! {
    MissingPgxs => "missing_pgxs", "The PGXS makefile (pgxs.mk) was not found: the PostgreSQL development files are not installed or PG_CONFIG points elsewhere.";
    MissingMakefileGlobal => "missing_makefile_global", "The Makefile includes Makefile.global of a PostgreSQL source tree: a contrib-style build that needs USE_PGXS=1 or a source tree.";
    MissingPgConfig => "missing_pg_config", "pg_config was not found.";
    NoRuleToMakeTarget => "no_rule_to_make_target", "make has no rule to make a target: a source file or makefile named in the Makefile is missing.";
    UnsupportedPgVersion => "unsupported_pg_version", "The extension refuses this PostgreSQL version (an explicit #error or $(error ...) in its sources).";
    MissingHeader => "missing_header", "A header file was not found: it was removed or renamed in this PostgreSQL version, or a library's development package is missing.";
    NoMember => "no_member", "A struct has no member of that name in this PostgreSQL version.";
    TooManyArguments => "too_many_arguments", "A function is called with more arguments than this PostgreSQL version declares.";
    TooFewArguments => "too_few_arguments", "A function is called with fewer arguments than this PostgreSQL version declares.";
    ImplicitDeclaration => "implicit_declaration", "A function is used without a declaration: it was removed or renamed in this PostgreSQL version, or a header is missing.";
    UnknownTypeName => "unknown_type_name", "A type name is unknown: it was removed or renamed in this PostgreSQL version, or a header is missing.";
    IncompatiblePointerType => "incompatible_pointer_type", "A pointer of an incompatible type is passed or assigned (an error with newer compilers).";
    UndeclaredIdentifier => "undeclared_identifier", "An identifier (often a macro or constant) is not declared in this PostgreSQL version.";
    ConflictingTypes => "conflicting_types", "A declaration conflicts with the one in PostgreSQL's headers.";
    UndefinedReference => "undefined_reference", "The linker found no definition for a symbol.";
    MissingLibrary => "missing_library", "The linker could not find a library (-lNAME): its development package is missing.";
    MissingCompiler => "missing_compiler", "The C compiler (or clang for bitcode) that PGXS names is not installed.";
    MissingTool => "missing_tool", "A program the build runs is not installed.";
    PermissionDenied => "permission_denied", "Permission denied: the files or the database object are not writable by this user.";
    DiskFull => "disk_full", "The disk is full.";
    MissingControlFile => "missing_control_file", "The extension is not installed: its control file was not found.";
    MissingExtensionDependency => "missing_extension_dependency", "An extension this one requires is not installed.";
    MissingSharedLibrary => "missing_shared_library", "The extension's shared library was not found in the library folder.";
    UndefinedSymbol => "undefined_symbol", "The shared library refers to a symbol the server does not define: it was built for another PostgreSQL version or misses a library.";
    SharedPreloadRequired => "shared_preload_required", "The extension must be loaded through shared_preload_libraries.";
    SqlSyntaxError => "sql_syntax_error", "An SQL script has a syntax error for this PostgreSQL version.";
    FunctionDoesNotExist => "function_does_not_exist", "An SQL script calls a function that does not exist in this PostgreSQL version.";
    ObjectDoesNotExist => "object_does_not_exist", "An SQL script refers to a type, relation or other object that does not exist.";
    MissingTestFile => "missing_test_file", "A test's input file was not found.";
    TestFailures => "test_failures", "Tests ran and some failed.";
    ServerCrash => "server_crash", "The server crashed (a backend was terminated by a signal).";
    ServerPanic => "server_panic", "The server raised a PANIC.";
    Timeout => "timeout", "A step timed out.";
    OutOfMemory => "out_of_memory", "Out of memory.";
    CouldNotConnect => "could_not_connect", "Could not connect to the server.";
    SandboxNetwork => "sandbox_network", "A step tried to reach the network (a download, a name lookup, a service on the host): pgfarm's sandbox has no network but its own loopback.";
    SandboxWrite => "sandbox_write", "A step wrote outside its work folder: pgfarm's sandbox shows every other folder read-only.";
    ForkLimit => "fork_limit", "A step could not start more processes: the process limit (pgfarm's sandbox sets one) was hit, often by a fork bomb or runaway parallelism.";
    CompileError => "compile_error", "The compiler or linker reported an error of no known kind.";
    Unknown => "unknown", "No known cause was found in the logs.";
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// A name that is no cause's wire name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCauseName(pub String);

impl fmt::Display for UnknownCauseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a failure cause", self.0)
    }
}

impl std::error::Error for UnknownCauseName {}

impl FromStr for Cause {
    type Err = UnknownCauseName;
    fn from_str(s: &str) -> Result<Cause, UnknownCauseName> {
        Cause::from_wire_name(s).ok_or_else(|| UnknownCauseName(s.to_owned()))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Cause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.wire_name())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Cause {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cause, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Cause::from_wire_name(&name)
            .ok_or_else(|| serde::de::Error::custom(UnknownCauseName(name.into_owned())))
    }
}

/// The line a cause was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Which of the logs given to [`classify_logs`] (0 for [`classify`]).
    pub log: usize,
    /// 1-based line number in that log.
    pub number: usize,
    /// The line, without its line ending.
    pub text: &'a str,
}

/// A classification: the cause and, unless it is [`Cause::Unknown`], the line that shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding<'a> {
    pub cause: Cause,
    pub line: Option<Line<'a>>,
}

impl Finding<'_> {
    const UNKNOWN: Finding<'static> = Finding { cause: Cause::Unknown, line: None };
}

/// Classifies one log.
pub fn classify(log: &str) -> Finding<'_> {
    classify_logs(&[log])
}

/// Classifies several logs of one stage together (for example the stage's own log and the server
/// log of the same time): the tier rule applies across them, then the earlier log, then the line.
pub fn classify_logs<'a>(logs: &[&'a str]) -> Finding<'a> {
    let mut best: Option<(u8, Finding<'a>)> = None;
    for found in logs.iter().enumerate().flat_map(|(i, log)| matches_in(i, log)) {
        let tier = found.0;
        if best.as_ref().is_none_or(|(t, _)| tier < *t) {
            best = Some(found);
            if tier == 0 {
                // Nothing beats the first tier-0 line.
                break;
            }
        }
    }
    best.map_or(Finding::UNKNOWN, |(_, finding)| finding)
}

/// Every matching line of a log, in line order, with the first rule that matches it: for showing
/// the lines behind a cause.
pub fn matches(log: &str) -> impl Iterator<Item = Finding<'_>> {
    matches_in(0, log).map(|(_, finding)| finding)
}

fn matches_in(log_index: usize, log: &str) -> impl Iterator<Item = (u8, Finding<'_>)> {
    log.lines().enumerate().filter_map(move |(i, raw)| {
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        if is_diff_line(text) {
            return None;
        }
        let lower = text.to_ascii_lowercase();
        let l = Probe { text, lower: &lower };
        RULES.iter().find(|rule| (rule.test)(&l)).map(|rule| {
            let line = Line { log: log_index, number: i + 1, text };
            (rule.tier, Finding { cause: rule.cause, line: Some(line) })
        })
    })
}

fn is_diff_line(line: &str) -> bool {
    line.starts_with('+')
        || line.starts_with("@@")
        || (line.starts_with('-') && !line.starts_with("--"))
        || line.starts_with("---")
}

struct Probe<'a> {
    text: &'a str,
    lower: &'a str,
}

impl Probe<'_> {
    fn has(&self, s: &str) -> bool {
        self.text.contains(s)
    }
    fn has_i(&self, lowercase: &str) -> bool {
        self.lower.contains(lowercase)
    }
    fn not_found(&self) -> bool {
        self.has("No such file or directory")
            || self.has("command not found")
            || self.text.trim_end().ends_with(": not found")
    }
    /// `make: PROG: No such file or directory`, `sh: 1: PROG: not found`, `PROG: command not
    /// found`: the program make or the shell could not run.
    fn missing_program(&self) -> Option<&str> {
        if !self.not_found() {
            return None;
        }
        let t = self.text.trim_end();
        let rest = t
            .strip_prefix("make: ")
            .or_else(|| t.find("sh: ").map(|i| &t[i + 4..]))
            .or_else(|| t.strip_suffix(": command not found"))?;
        // `sh: 1: clang-14: not found` has a line number first.
        let rest = rest
            .split_once(": ")
            .filter(|(n, _)| n.parse::<u32>().is_ok())
            .map_or(rest, |(_, r)| r);
        let program = rest.split(": ").next()?.trim();
        let program = program.rsplit('/').next()?;
        (!program.is_empty() && !program.contains(' ') && !program.contains('.')).then_some(program)
    }
}

struct Rule {
    cause: Cause,
    tier: u8,
    test: fn(&Probe<'_>) -> bool,
}

const fn rule(cause: Cause, tier: u8, test: fn(&Probe<'_>) -> bool) -> Rule {
    Rule { cause, tier, test }
}

fn is_compiler(program: &str) -> bool {
    let base = program.split('-').next().unwrap_or(program);
    matches!(base, "cc" | "gcc" | "clang" | "c++" | "g++" | "clang++")
        || program.ends_with("-cc")
        || program.ends_with("-gcc")
}

/// Tier, then order: see the crate docs.
static RULES: &[Rule] = &[
    // tier 0: events that explain everything after them
    rule(Cause::ServerPanic, 0, |l| l.has("PANIC:  ") || l.has("PANIC: ")),
    rule(Cause::ServerCrash, 0, |l| {
        l.has("terminated by signal")
            || l.has("was terminated by exception")
            || l.has("server closed the connection unexpectedly")
            || l.has("server crashed")
    }),
    rule(Cause::OutOfMemory, 0, |l| {
        l.has("out of memory")
            || l.has("Cannot allocate memory")
            || l.has("virtual memory exhausted")
            || l.has("Killed signal terminated program")
    }),
    rule(Cause::DiskFull, 0, |l| {
        l.has("No space left on device")
            || l.has("Disk quota exceeded")
            || l.has("could not extend file")
    }),
    rule(Cause::Timeout, 0, |l| {
        l.has("canceling statement due to statement timeout")
            || l.has("timed out after")
            || l.has(" timed out")
    }),
    // tier 1: a limit of the machine (pgfarm's sandbox sets a process limit)
    rule(Cause::ForkLimit, 1, |l| {
        l.has("Cannot fork")
            || l.has_i("can't fork")
            || (l.has("fork") && l.has("Resource temporarily unavailable"))
    }),
    // tier 1: build set-up
    rule(Cause::MissingHeader, 1, |l| {
        l.has("fatal error:") && (l.has("No such file or directory") || l.has("file not found"))
    }),
    rule(Cause::MissingPgxs, 1, |l| {
        l.has("pgxs.mk") && (l.not_found() || l.has("No rule to make target"))
    }),
    rule(Cause::MissingMakefileGlobal, 1, |l| {
        (l.has("Makefile.global") || l.has("contrib-global.mk"))
            && (l.not_found() || l.has("No rule to make target"))
    }),
    rule(Cause::MissingPgConfig, 1, |l| {
        l.missing_program().is_some_and(|p| p.contains("pg_config"))
    }),
    rule(Cause::MissingCompiler, 1, |l| l.missing_program().is_some_and(is_compiler)),
    rule(Cause::MissingTool, 1, |l| {
        l.missing_program().is_some() || (l.has("error: no such command: `") && !l.has(": error: "))
    }),
    rule(Cause::UnsupportedPgVersion, 1, |l| {
        let refusal = l.has("#error") || (l.has("*** ") && l.text.trim_end().ends_with("Stop."));
        refusal
            && (l.has_i("postgres") || l.has_i("pg_version") || l.has_i("pg version"))
            && (l.has_i("version") || l.has_i("requir") || l.has_i("support"))
    }),
    rule(Cause::NoRuleToMakeTarget, 1, |l| l.has("No rule to make target")),
    // tier 1: compiling
    rule(Cause::NoMember, 1, |l| l.has("has no member named") || l.has("no member named")),
    rule(Cause::TooManyArguments, 1, |l| l.has("too many arguments to function")),
    rule(Cause::TooFewArguments, 1, |l| l.has("too few arguments to function")),
    rule(Cause::ImplicitDeclaration, 1, |l| {
        l.has("error:")
            && (l.has("implicit declaration of function") || l.has("call to undeclared function"))
    }),
    rule(Cause::UnknownTypeName, 1, |l| l.has("unknown type name")),
    rule(Cause::IncompatiblePointerType, 1, |l| {
        l.has("error:") && l.has("incompatible pointer type")
    }),
    rule(Cause::UndeclaredIdentifier, 1, |l| {
        l.has("undeclared (first use in this function)")
            || l.has("undeclared here")
            || l.has("use of undeclared identifier")
    }),
    rule(Cause::ConflictingTypes, 1, |l| l.has("conflicting types for")),
    // tier 1: linking and loading
    rule(Cause::UndefinedReference, 1, |l| l.has("undefined reference to")),
    rule(Cause::MissingLibrary, 1, |l| {
        l.has("cannot find -l") || l.has("library not found for -l")
    }),
    rule(Cause::UndefinedSymbol, 1, |l| l.has("undefined symbol: ") || l.has("symbol not found")),
    rule(Cause::MissingSharedLibrary, 1, |l| {
        l.has("could not access file \"") || (l.has("could not load library") && l.not_found())
    }),
    rule(Cause::MissingExtensionDependency, 1, |l| {
        l.has("required extension \"") && l.has("is not installed")
    }),
    rule(Cause::MissingControlFile, 1, |l| {
        (l.has("extension \"") && l.has("is not available"))
            || l.has("could not open extension control file")
    }),
    rule(Cause::SharedPreloadRequired, 1, |l| {
        l.has("shared_preload_libraries")
            && (l.has_i("must") || l.has_i("only") || l.has_i("required") || l.has_i("needs"))
    }),
    rule(Cause::SandboxWrite, 1, |l| l.has("Read-only file system")),
    rule(Cause::PermissionDenied, 1, |l| {
        l.has_i("permission denied")
            || l.has("Operation not permitted")
            || l.has("must be superuser")
    }),
    // tier 1: SQL scripts and tests
    rule(Cause::SqlSyntaxError, 1, |l| {
        l.has("ERROR:")
            && (l.has("syntax error at or near") || l.has("syntax error at end of input"))
    }),
    rule(Cause::FunctionDoesNotExist, 1, |l| {
        l.has("ERROR:") && l.has("function ") && l.has(" does not exist")
    }),
    rule(Cause::ObjectDoesNotExist, 1, |l| l.has("ERROR:") && l.has(" does not exist")),
    rule(Cause::MissingTestFile, 1, |l| {
        (l.has("cannot open") || l.has("could not open"))
            && (l.has(".sql") || l.has(".spec") || l.has("/expected/") || l.has(".source"))
    }),
    rule(Cause::SandboxNetwork, 1, |l| {
        let libpq = l.has("could not connect to server")
            || l.has("connection to server")
            || l.has("Is the server running");
        l.has("Could not resolve host")
            || l.has("Temporary failure in name resolution")
            || l.has("Name or service not known")
            || l.has("Network is unreachable")
            || l.has("Couldn't connect to server")
            || (l.has("Connection refused") && !libpq)
    }),
    rule(Cause::CouldNotConnect, 1, |l| {
        l.has("could not connect to server")
            || (l.has("connection to server") && l.has("failed"))
            || l.has("Connection refused")
    }),
    // tier 2: weak signs
    rule(Cause::ImplicitDeclaration, 2, |l| l.has("implicit declaration of function")),
    rule(Cause::IncompatiblePointerType, 2, |l| l.has("incompatible pointer type")),
    rule(Cause::CompileError, 2, |l| l.has(": error: ") || l.has("error: ld returned")),
    rule(Cause::TestFailures, 2, |l| {
        (l.has(" tests failed") || l.has(" test failed")) && l.has(" of ")
            || l.has("Result: FAIL")
            || l.has("not ok ")
    }),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for &cause in Cause::ALL {
            assert!(seen.insert(cause.wire_name()), "duplicate {cause}");
            assert_eq!(cause.wire_name().parse::<Cause>(), Ok(cause));
            assert!(cause.sentence().ends_with('.'), "{cause}");
        }
        assert_eq!(Cause::ALL.last(), Some(&Cause::Unknown));
        assert!("no_such_cause".parse::<Cause>().is_err());
    }

    #[test]
    fn events_are_the_first_tier() {
        use std::collections::BTreeSet;
        let events: BTreeSet<Cause> = Cause::ALL.iter().copied().filter(|c| c.is_event()).collect();
        let want = [
            Cause::ServerCrash,
            Cause::ServerPanic,
            Cause::Timeout,
            Cause::OutOfMemory,
            Cause::DiskFull,
        ];
        assert_eq!(events, want.into_iter().collect());
        assert!(!Cause::Unknown.is_event() && !Cause::MissingHeader.is_event());
    }

    #[test]
    fn every_cause_but_unknown_has_a_rule() {
        for &cause in Cause::ALL {
            let ruled = RULES.iter().any(|r| r.cause == cause);
            assert_eq!(ruled, cause != Cause::Unknown, "{cause}");
        }
    }

    #[test]
    fn earliest_line_wins_within_a_tier_and_tier_zero_wins_over_all() {
        let log = "a.c:1:1: error: unknown type name 'Foo'\nb.c:2:2: error: 'Bar' has no member named 'x'\n";
        assert_eq!(classify(log).cause, Cause::UnknownTypeName);
        let log = format!(
            "{log}LOG:  server process (PID 1) was terminated by signal 11: Segmentation fault\n"
        );
        let found = classify(&log);
        assert_eq!(found.cause, Cause::ServerCrash);
        assert_eq!(found.line.unwrap().number, 3);
    }

    #[test]
    fn weak_signs_give_way_to_specific_ones() {
        let log = "x.c:1:1: warning: implicit declaration of function 'f'\nERROR:  could not load library \"x.so\": x.so: undefined symbol: f\n";
        assert_eq!(classify(log).cause, Cause::UndefinedSymbol);
        assert_eq!(
            classify("x.c:1:1: warning: implicit declaration of function 'f'\n").cause,
            Cause::ImplicitDeclaration
        );
    }

    #[test]
    fn diff_lines_are_test_output() {
        let log =
            "@@ -1,3 +1,3 @@\n-ok\n+ERROR:  permission denied for table t\n 1 of 1 tests failed.\n";
        assert_eq!(classify(log).cause, Cause::TestFailures);
    }

    #[test]
    fn several_logs_are_judged_together() {
        let stage = "server closed the connection unexpectedly\n";
        let server =
            "LOG:  server process (PID 9) was terminated by signal 11: Segmentation fault\n";
        let found = classify_logs(&["ERROR:  function f() does not exist\n", server]);
        assert_eq!(found.cause, Cause::ServerCrash);
        assert_eq!(found.line.unwrap().log, 1);
        assert_eq!(classify_logs(&[stage, server]).line.unwrap().log, 0);
    }

    #[test]
    fn nothing_matches_is_unknown() {
        assert_eq!(classify(""), Finding::UNKNOWN);
        assert_eq!(classify("gcc -c x.c\nall fine\n").cause, Cause::Unknown);
    }

    #[test]
    fn the_sandbox_refusals_and_libpq_connection_errors_stay_apart() {
        let libpq = "psql: error: connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n";
        assert_eq!(classify(libpq).cause, Cause::CouldNotConnect);
        let bash = "bash: connect: Connection refused\nbash: line 1: /dev/tcp/127.0.0.1/80: Connection refused\n";
        assert_eq!(classify(bash).cause, Cause::SandboxNetwork);
        assert_eq!(
            classify("sh: 1: cannot create /x: Read-only file system\n").cause,
            Cause::SandboxWrite
        );
        let bomb = "bash: fork: retry: Resource temporarily unavailable\nmake: *** [all] Error 1\n";
        assert_eq!(classify(bomb).cause, Cause::ForkLimit);
    }

    #[test]
    fn missing_program_shapes() {
        assert_eq!(classify("/bin/sh: 1: clang-14: not found\n").cause, Cause::MissingCompiler);
        assert_eq!(classify("make: cargo: No such file or directory\n").cause, Cause::MissingTool);
        assert_eq!(classify("bash: pg_config: command not found\n").cause, Cause::MissingPgConfig);
    }
}
