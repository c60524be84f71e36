#!/usr/bin/env bash
# Regenerates the fixture logs of testdata/causes from real failures: tiny failing extensions built
# with PGXS, and a throwaway PostgreSQL server for the SQL and server-log fixtures.
#
#   testdata/causes/regen.sh [PG_CONFIG]     default: /usr/lib/postgresql/15/bin/pg_config (Debian)
#
# Needs root (the server runs as the unprivileged user `pgfarm`, the install fixture writes as it).
# Output paths and PIDs differ per machine; the classifier does not depend on them.
set -u
PG_CONFIG=${1:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$("$PG_CONFIG" --bindir)
OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/causes-gen.XXXXXX)
chmod 755 "$WORK"
trap 'su pgfarm -s /bin/sh -c "$BIN/pg_ctl -D $WORK/data -m immediate stop" >/dev/null 2>&1; rm -rf "$WORK"' EXIT

# ext NAME MAKEFILE_BODY C_SOURCE: a one-file extension in $WORK/NAME
ext() {
  mkdir -p "$WORK/$1"
  printf '%s\n' "$2" > "$WORK/$1/Makefile"
  [ -n "${3:-}" ] && printf '%s\n' "$3" > "$WORK/$1/$1.c"
  printf "comment = '$1'\ndefault_version = '1.0'\nmodule_pathname = '\$libdir/$1'\nrelocatable = true\n" \
    > "$WORK/$1/$1.control"
  printf -- "-- $1\n" > "$WORK/$1/$1--1.0.sql"
}
pgxs() { printf 'MODULES = %s\nEXTENSION = %s\nDATA = %s--1.0.sql\n%s\nPG_CONFIG ?= pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' "$1" "$1" "$1" "${2:-}"; }
build() { (cd "$WORK/$1" && make PG_CONFIG="$PG_CONFIG" "${@:2}") > "$OUT/$1.log" 2>&1; }
HEAD='#include "postgres.h"
#include "fmgr.h"
PG_MODULE_MAGIC;'

# --- build stage ---
ext missing_pgxs 'PGXS := /nonexistent/lib/pgxs/src/makefiles/pgxs.mk
include $(PGXS)'
build missing_pgxs
ext missing_makefile_global 'MODULES = missing_makefile_global
subdir = contrib/missing_makefile_global
top_builddir = ../..
include $(top_builddir)/src/Makefile.global'
build missing_makefile_global
ext no_rule_to_make_target "$(pgxs no_rule_to_make_target 'OBJS = missing_source.o')" ''
sed -i 's/^MODULES = .*/MODULE_big = no_rule_to_make_target/' "$WORK/no_rule_to_make_target/Makefile"
build no_rule_to_make_target
ext unsupported_pg_version "$(pgxs unsupported_pg_version 'ifeq ($(shell test $(shell $(PG_CONFIG) --version | sed "s/[^0-9]*\([0-9]*\).*/\1/") -lt 99; echo $$?),0)
$(error Minimum version of PostgreSQL required is 99)
endif')" "$HEAD"
build unsupported_pg_version
ext unsupported_pg_version_c "$(pgxs unsupported_pg_version_c)" "$HEAD
#if PG_VERSION_NUM < 990000
#error \"This extension requires PostgreSQL 99 or later\"
#endif"
build unsupported_pg_version_c
ext no_member "$(pgxs no_member)" "$HEAD
#include \"nodes/parsenodes.h\"
int f(Query *q);
int f(Query *q) { return q->hasOldStyleRules; }"
build no_member
ext too_many_arguments "$(pgxs too_many_arguments)" "$HEAD
#include \"utils/builtins.h\"
text *f(void);
text *f(void) { return cstring_to_text(\"a\", 1, 2); }"
build too_many_arguments
ext too_few_arguments "$(pgxs too_few_arguments)" "$HEAD
#include \"utils/builtins.h\"
text *f(void);
text *f(void) { return cstring_to_text_with_len(\"a\"); }"
build too_few_arguments
ext implicit_declaration "$(pgxs implicit_declaration 'PG_CFLAGS = -Werror=implicit-function-declaration')" "$HEAD
int f(void);
int f(void) { return heap_open_removed_in_12(1); }"
build implicit_declaration
ext missing_header "$(pgxs missing_header)" "$HEAD
#include \"utils/rel_removed.h\""
build missing_header
ext unknown_type_name "$(pgxs unknown_type_name)" "$HEAD
int f(HeapTupleRemoved t);"
build unknown_type_name
ext incompatible_pointer_type "$(pgxs incompatible_pointer_type 'PG_CFLAGS = -Werror=incompatible-pointer-types')" "$HEAD
#include \"utils/builtins.h\"
text *f(int *p);
text *f(int *p) { return cstring_to_text(p); }"
build incompatible_pointer_type
ext undeclared_identifier "$(pgxs undeclared_identifier)" "$HEAD
int f(void);
int f(void) { return RELKIND_REMOVED_IN_99; }"
build undeclared_identifier
ext conflicting_types "$(pgxs conflicting_types)" "$HEAD
#include \"utils/builtins.h\"
int cstring_to_text(const char *s);"
build conflicting_types
ext compile_error "$(pgxs compile_error)" "$HEAD
int f(void) { return 1 }"
build compile_error
ext undefined_reference "all:
	\$(CC) -o undefined_reference undefined_reference.c" "int not_defined_anywhere(void);
int main(void) { return not_defined_anywhere(); }"
build undefined_reference
ext missing_library "$(pgxs missing_library 'SHLIB_LINK = -lpgfarm_no_such_library')" "$HEAD"
sed -i 's/^MODULES = .*/MODULE_big = missing_library\nOBJS = missing_library.o/' "$WORK/missing_library/Makefile"
build missing_library
ext missing_compiler "$(pgxs missing_compiler)" "$HEAD"
build missing_compiler CC=pgfarm-no-such-cc
ext missing_tool "EXTENSION = missing_tool
all:
	cargo pgrx package
PG_CONFIG ?= pg_config
PGXS := \$(shell \$(PG_CONFIG) --pgxs)
include \$(PGXS)"
# no cargo at all (an empty PATH), and cargo without the pgrx subcommand
mkdir -p "$WORK/emptybin"
(cd "$WORK/missing_tool" && PATH="$WORK/emptybin" /usr/bin/make PG_CONFIG="$PG_CONFIG") > "$OUT/missing_tool.log" 2>&1
if command -v cargo >/dev/null; then
  (cd "$WORK/missing_tool" && CARGO_HOME="$WORK/cargo-home" make PG_CONFIG="$PG_CONFIG") > "$OUT/missing_tool_pgrx.log" 2>&1
fi
ext missing_pg_config "$(pgxs missing_pg_config)" "$HEAD"
(cd "$WORK/missing_pg_config" && PATH=/usr/bin:/bin make PG_CONFIG=pg_config-no-such) > "$OUT/missing_pg_config.log" 2>&1

# --- install stage: PGXS install into a tree the unprivileged user cannot write ---
ext permission_denied "$(pgxs permission_denied)" "$HEAD"
chown -R pgfarm "$WORK/permission_denied"
su pgfarm -s /bin/sh -c "cd $WORK/permission_denied && make PG_CONFIG=$PG_CONFIG && make PG_CONFIG=$PG_CONFIG install" \
  > "$OUT/permission_denied.log" 2>&1

# --- disk full: a 1 MB tmpfs ---
mkdir -p "$WORK/full"
if mount -t tmpfs -o size=1m tmpfs "$WORK/full" 2>/dev/null; then
  ext disk_full "$(pgxs disk_full)" "$HEAD
char big[4 << 20] = {1};"
  build disk_full
  (cd "$WORK/disk_full" && make PG_CONFIG="$PG_CONFIG" install DESTDIR="$WORK/full") > "$OUT/disk_full.log" 2>&1
  umount "$WORK/full"
fi

# --- server: a throwaway cluster on port 5499 ---
chown pgfarm "$WORK"
su pgfarm -s /bin/sh -c "$BIN/initdb -D $WORK/data -A trust" > /dev/null
su pgfarm -s /bin/sh -c "$BIN/pg_ctl -D $WORK/data -o '-p 5499 -k $WORK -c listen_addresses=' -l $WORK/server.log -w start" > /dev/null
psql() { su pgfarm -s /bin/sh -c "$BIN/psql -X -h $WORK -p 5499 -d postgres -v ON_ERROR_STOP=1 $*"; }
# could not connect: a port nobody listens on
su pgfarm -s /bin/sh -c "$BIN/psql -X -h $WORK -p 5498 -d postgres -c 'select 1'" > "$OUT/could_not_connect.log" 2>&1
SHARE=$("$PG_CONFIG" --sharedir)/extension
LIB=$("$PG_CONFIG" --pkglibdir)
ctl() { printf "comment = 'x'\ndefault_version = '1.0'\nrelocatable = true\n%s\n" "$2" > "$SHARE/$1.control"; printf '%s\n' "$3" > "$SHARE/$1--1.0.sql"; }
ctl pgfarm_dep "requires = 'pgfarm_absent_dep'" "select 1;"
psql -c "'create extension pgfarm_dep'" > "$OUT/missing_extension_dependency.log" 2>&1
psql -c "'create extension pgfarm_not_installed'" > "$OUT/missing_control_file.log" 2>&1
ctl pgfarm_nolib "module_pathname = '\$libdir/pgfarm_nolib'" "CREATE FUNCTION f() RETURNS int AS 'MODULE_PATHNAME' LANGUAGE C;"
psql -c "'create extension pgfarm_nolib'" > "$OUT/missing_shared_library.log" 2>&1
ctl pgfarm_syntax "" "CREATE FUNCTON f() RETURNS int AS 'select 1' LANGUAGE sql;"
psql -c "'create extension pgfarm_syntax'" > "$OUT/sql_syntax_error.log" 2>&1
ctl pgfarm_nofunc "" "SELECT pgfarm_missing_function(1);"
psql -c "'create extension pgfarm_nofunc'" > "$OUT/function_does_not_exist.log" 2>&1
ctl pgfarm_notype "" "CREATE TABLE t (a pgfarm_missing_type);"
psql -c "'create extension pgfarm_notype'" > "$OUT/object_does_not_exist.log" 2>&1
psql -c "'create extension if not exists pg_stat_statements'" -c "'select count(*) from pg_stat_statements'" > "$OUT/shared_preload_required.log" 2>&1
# undefined symbol at load: a module calling a function no library defines
ext undefined_symbol "$(pgxs undefined_symbol)" "$HEAD
extern int pgfarm_nowhere(void);
PG_FUNCTION_INFO_V1(us);
Datum us(PG_FUNCTION_ARGS) { PG_RETURN_INT32(pgfarm_nowhere()); }"
(cd "$WORK/undefined_symbol" && make -s PG_CONFIG="$PG_CONFIG" && make -s PG_CONFIG="$PG_CONFIG" install) >/dev/null 2>&1
psql -c "\"create function us() returns int as '\\\$libdir/undefined_symbol' language c\"" > "$OUT/undefined_symbol.log" 2>&1
# statement timeout
psql -c "'set statement_timeout = 100'" -c "'select pg_sleep(5)'" > "$OUT/timeout.log" 2>&1
# out of memory: a server limited to 200 MB of address space... per backend, via ulimit
# (set at start, so restart the server under the limit)
su pgfarm -s /bin/sh -c "$BIN/pg_ctl -D $WORK/data -w stop" > /dev/null
su pgfarm -s /bin/sh -c "ulimit -v 400000; $BIN/pg_ctl -D $WORK/data -o '-p 5499 -k $WORK -c listen_addresses= -c shared_buffers=16MB' -l $WORK/server.log -w start" > /dev/null
psql -c "'select count(distinct g::text || repeat(chr(65), 100)) from generate_series(1, 5000000) g'" -c "'set work_mem = \"2GB\"'" \
  > "$OUT/out_of_memory.log" 2>&1 || true
psql -c "'set work_mem = \"2GB\"'" -c "'select array_agg(repeat(chr(65), 1000)) from generate_series(1, 3000000)'" >> "$OUT/out_of_memory.log" 2>&1
# server crash: a C function dereferencing NULL; the server log is the fixture
ext crash "$(pgxs crash)" "$HEAD
PG_FUNCTION_INFO_V1(crash);
Datum crash(PG_FUNCTION_ARGS) { volatile int *p = NULL; PG_RETURN_INT32(*p); }"
(cd "$WORK/crash" && make -s PG_CONFIG="$PG_CONFIG" && make -s PG_CONFIG="$PG_CONFIG" install) >/dev/null 2>&1
: > "$WORK/server.log"
psql -c "\"create function crash() returns int as '\\\$libdir/crash' language c\"" -c "'select crash()'" > "$OUT/server_crash_client.log" 2>&1
for _ in $(seq 30); do su pgfarm -s /bin/sh -c "$BIN/pg_isready -q -h $WORK -p 5499" && break; sleep 1; done
cp "$WORK/server.log" "$OUT/server_crash.log"
# PANIC in the server log: a C function raising elog(PANIC)
ext panic "$(pgxs panic)" "$HEAD
PG_FUNCTION_INFO_V1(panic);
Datum panic(PG_FUNCTION_ARGS) { elog(PANIC, \"pgfarm fixture panic\"); PG_RETURN_VOID(); }"
(cd "$WORK/panic" && make PG_CONFIG="$PG_CONFIG" && make PG_CONFIG="$PG_CONFIG" install) > "$OUT/unknown.log" 2>&1
: > "$WORK/server.log"
psql -c "\"create function panic() returns void as '\\\$libdir/panic' language c\"" -c "'select panic()'" > /dev/null 2>&1
for _ in $(seq 30); do su pgfarm -s /bin/sh -c "$BIN/pg_isready -q -h $WORK -p 5499" && break; sleep 1; done
cp "$WORK/server.log" "$OUT/server_panic.log"
rm -f "$LIB"/panic.so "$SHARE"/panic*
rm -rf "$LIB"/bitcode/{undefined_symbol,crash,panic}{,.index.bc}
rm -f "$SHARE"/pgfarm_* "$LIB"/undefined_symbol.so "$LIB"/crash.so "$SHARE"/undefined_symbol* "$SHARE"/crash*
# pg_regress: a failing test and a missing test file
mkdir -p "$WORK/regress/sql" "$WORK/regress/expected"
echo "select 1 as one;" > "$WORK/regress/sql/one.sql"
printf ' one \n-----\n   2\n(1 row)\n\n' > "$WORK/regress/expected/one.out"
chown -R pgfarm "$WORK/regress"
REG=$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress
su pgfarm -s /bin/sh -c "cd $WORK/regress && $REG --bindir=$BIN --host=$WORK --port=5499 one" > "$OUT/test_failures.log" 2>&1
su pgfarm -s /bin/sh -c "cd $WORK/regress && $REG --bindir=$BIN --host=$WORK --port=5499 two" > "$OUT/missing_test_file.log" 2>&1
# sanitize the temporary folder name out of the logs
sed -i "s#$WORK#/tmp/causes-gen#g" "$OUT"/*.log
