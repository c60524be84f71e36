//! Fixture logs from real failures (testdata/causes, see its README) in, cause and line out.

use pgfarm_causes::{Cause, classify};
use std::path::Path;

/// (fixture, cause, a piece of the line the cause must be read from)
const TABLE: &[(&str, Cause, &str)] = &[
    ("missing_pgxs", Cause::MissingPgxs, "pgxs.mk: No such file or directory"),
    ("missing_makefile_global", Cause::MissingMakefileGlobal, "src/Makefile.global: No such file"),
    ("missing_pg_config", Cause::MissingPgConfig, "pg_config-no-such"),
    (
        "no_rule_to_make_target",
        Cause::NoRuleToMakeTarget,
        "No rule to make target 'missing_source.o'",
    ),
    (
        "unsupported_pg_version",
        Cause::UnsupportedPgVersion,
        "Minimum version of PostgreSQL required is 99",
    ),
    (
        "unsupported_pg_version_c",
        Cause::UnsupportedPgVersion,
        "#error \"This extension requires PostgreSQL 99",
    ),
    ("missing_header", Cause::MissingHeader, "utils/rel_removed.h"),
    ("no_member", Cause::NoMember, "has no member named"),
    ("too_many_arguments", Cause::TooManyArguments, "too many arguments to function"),
    ("too_few_arguments", Cause::TooFewArguments, "too few arguments to function"),
    ("implicit_declaration", Cause::ImplicitDeclaration, "heap_open_removed_in_12"),
    ("unknown_type_name", Cause::UnknownTypeName, "HeapTupleRemoved"),
    ("incompatible_pointer_type", Cause::IncompatiblePointerType, "from incompatible pointer type"),
    ("undeclared_identifier", Cause::UndeclaredIdentifier, "RELKIND_REMOVED_IN_99"),
    ("conflicting_types", Cause::ConflictingTypes, "conflicting types for"),
    ("compile_error", Cause::CompileError, "error: expected"),
    ("undefined_reference", Cause::UndefinedReference, "not_defined_anywhere"),
    ("missing_library", Cause::MissingLibrary, "-lpgfarm_no_such_library"),
    ("missing_compiler", Cause::MissingCompiler, "pgfarm-no-such-cc: No such file"),
    ("missing_tool", Cause::MissingTool, "make: cargo:"),
    ("missing_tool_pgrx", Cause::MissingTool, "no such command: `pgrx`"),
    ("permission_denied", Cause::PermissionDenied, "Permission denied"),
    ("disk_full", Cause::DiskFull, "No space left on device"),
    (
        "missing_control_file",
        Cause::MissingControlFile,
        "\"pgfarm_not_installed\" is not available",
    ),
    ("missing_extension_dependency", Cause::MissingExtensionDependency, "pgfarm_absent_dep"),
    ("missing_shared_library", Cause::MissingSharedLibrary, "$libdir/pgfarm_nolib"),
    ("undefined_symbol", Cause::UndefinedSymbol, "undefined symbol: pgfarm_nowhere"),
    (
        "shared_preload_required",
        Cause::SharedPreloadRequired,
        "must be loaded via shared_preload_libraries",
    ),
    ("sql_syntax_error", Cause::SqlSyntaxError, "syntax error at or near \"FUNCTON\""),
    ("function_does_not_exist", Cause::FunctionDoesNotExist, "pgfarm_missing_function(integer)"),
    (
        "object_does_not_exist",
        Cause::ObjectDoesNotExist,
        "type \"pgfarm_missing_type\" does not exist",
    ),
    ("missing_test_file", Cause::MissingTestFile, "sql/two.sql"),
    ("test_failures", Cause::TestFailures, "1 of 1 tests failed."),
    ("server_crash", Cause::ServerCrash, "terminated by signal 11: Segmentation fault"),
    ("server_crash_client", Cause::ServerCrash, "server closed the connection unexpectedly"),
    ("server_panic", Cause::ServerPanic, "PANIC:  pgfarm fixture panic"),
    ("timeout", Cause::Timeout, "statement timeout"),
    ("out_of_memory", Cause::OutOfMemory, "ERROR:  out of memory"),
    ("could_not_connect", Cause::CouldNotConnect, "connection to server on socket"),
    ("sandbox_network", Cause::SandboxNetwork, "Could not resolve host: example.org"),
    ("sandbox_network_loopback", Cause::SandboxNetwork, "Failed to connect to 127.0.0.1 port 8765"),
    ("sandbox_write", Cause::SandboxWrite, "Read-only file system"),
    ("fork_limit", Cause::ForkLimit, "Cannot fork"),
    ("unknown", Cause::Unknown, ""),
];

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/causes"))
}

#[test]
fn each_fixture_gives_its_cause_and_line() {
    let mut wrong = Vec::new();
    for &(name, cause, piece) in TABLE {
        let log = std::fs::read_to_string(dir().join(format!("{name}.log")))
            .unwrap_or_else(|e| panic!("{name}.log: {e}"));
        assert!(!log.trim().is_empty(), "{name}.log is empty");
        let found = classify(&log);
        let line = found.line.map_or("", |l| l.text);
        if found.cause != cause
            || !line.contains(piece)
            || (cause == Cause::Unknown) != found.line.is_none()
        {
            wrong.push(format!(
                "{name}: got {} from {line:?}, want {cause} from a line with {piece:?}",
                found.cause
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_fixture_is_in_the_table_and_every_cause_has_one() {
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            assert!(TABLE.iter().any(|(n, ..)| *n == stem), "{stem}.log is not in the table");
        }
    }
    for cause in Cause::ALL {
        assert!(TABLE.iter().any(|(_, c, _)| c == cause), "no fixture for {cause}");
    }
}

#[cfg(feature = "serde")]
#[test]
fn serde_uses_the_wire_name() {
    assert_eq!(serde_json::to_string(&Cause::MissingHeader).unwrap(), "\"missing_header\"");
    assert_eq!(serde_json::from_str::<Cause>("\"server_crash\"").unwrap(), Cause::ServerCrash);
    let err = serde_json::from_str::<Cause>("\"crash\"").unwrap_err().to_string();
    assert!(err.contains("\"crash\" is not a failure cause"), "{err}");
}
