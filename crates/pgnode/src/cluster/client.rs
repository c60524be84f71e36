//! Talking to a cluster: psql, client connections, polling, pgbench, pg_dump/pg_restore.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cluster::{Cluster, process};
use crate::command::{Command, Output};
use crate::error::{Error, Result};

/// A psql invocation: SQL text or a file, stdin input, variables, database and role.
///
/// psql runs as the current OS user (root is fine) and connects over the cluster's unix socket
/// as the named role (the cluster's superuser unless [`Psql::user`] says otherwise), with
/// `-X -A -t -q` (no psqlrc, unaligned, tuples only, quiet) and `ON_ERROR_STOP=1` unless
/// [`Psql::on_error_stop`] turns it off.
#[derive(Debug)]
#[must_use = "call run() or safe()"]
pub struct Psql<'a> {
    cluster: &'a Cluster,
    sql: Option<String>,
    file: Option<PathBuf>,
    input: Option<Vec<u8>>,
    dbname: String,
    user: Option<String>,
    vars: Vec<(String, String)>,
    on_error_stop: bool,
    args: Vec<String>,
}

impl<'a> Psql<'a> {
    /// Runs this SQL (`-c`).
    pub fn sql(mut self, sql: impl Into<String>) -> Self {
        self.sql = Some(sql.into());
        self
    }

    /// Runs this file (`-f`).
    pub fn file(mut self, path: impl AsRef<Path>) -> Self {
        self.file = Some(path.as_ref().to_path_buf());
        self
    }

    /// Feeds this to psql's stdin (the script to run when neither `sql` nor `file` is set).
    pub fn input(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.input = Some(input.into());
        self
    }

    /// Connects to this database (default `postgres`).
    pub fn dbname(mut self, dbname: impl Into<String>) -> Self {
        self.dbname = dbname.into();
        self
    }

    /// Connects as this role.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets a psql variable (`-v name=value`, used as `:name` / `:'name'` in the script).
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// Whether psql stops at the first error (default true).
    pub fn on_error_stop(mut self, on: bool) -> Self {
        self.on_error_stop = on;
        self
    }

    /// Another psql argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn command(&self) -> Command {
        let c = self.cluster;
        let mut cmd = Command::new(c.installation.bin("psql"))
            .args(["-X", "-A", "-t", "-q"])
            .arg("-h")
            .arg(&c.socket_dir)
            .arg("-p")
            .arg(c.port.to_string())
            .arg("-U")
            .arg(self.user.as_deref().unwrap_or(&c.settings.superuser))
            .arg("-d")
            .arg(&self.dbname)
            .arg("-v")
            .arg(format!("ON_ERROR_STOP={}", u8::from(self.on_error_stop)))
            .env("PGAPPNAME", "pgfarm-psql")
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS");
        for (name, value) in &self.vars {
            cmd = cmd.arg("-v").arg(format!("{name}={value}"));
        }
        cmd = cmd.args(&self.args);
        // psql does not interpolate variables in -c strings, so SQL with variables goes
        // through stdin like a script.
        let sql_via_stdin = self.sql.is_some() && !self.vars.is_empty() && self.input.is_none();
        if let Some(sql) = &self.sql {
            if sql_via_stdin {
                cmd = cmd.stdin_bytes(sql.clone());
            } else {
                cmd = cmd.arg("-c").arg(sql);
            }
        }
        if let Some(file) = &self.file {
            cmd = cmd.arg("-f").arg(file);
        }
        if let Some(input) = &self.input {
            cmd = cmd.stdin_bytes(input.clone());
        }
        if let Some(password) = &c.settings.password {
            cmd = cmd.env("PGPASSWORD", password);
        }
        cmd
    }

    /// Runs psql and returns its exit code, stdout and stderr whatever happened.
    pub fn run(self) -> Result<Output> {
        self.command().output()
    }

    /// Runs psql; a non-zero exit becomes an error with psql's stderr and the server log tail.
    /// Returns stdout.
    pub fn safe(self) -> Result<String> {
        let cluster = self.cluster;
        self.command()
            .run()
            .map(|out| out.stdout)
            .map_err(|e| e.with_log_tail(|| cluster.error_log_tail()))
    }
}

/// pg_dump's output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    /// A SQL script (`-F p`), restored with psql.
    Plain,
    /// The custom archive (`-F c`).
    Custom,
    /// A directory archive (`-F d`).
    Directory,
    /// A tar archive (`-F t`).
    Tar,
}

impl DumpFormat {
    fn flag(self) -> &'static str {
        match self {
            DumpFormat::Plain => "p",
            DumpFormat::Custom => "c",
            DumpFormat::Directory => "d",
            DumpFormat::Tar => "t",
        }
    }

    /// Recognises a dump from its content: a directory, `PGDMP` (custom), a tar header, else
    /// plain SQL.
    pub fn detect(path: &Path) -> Result<DumpFormat> {
        if path.is_dir() {
            return Ok(DumpFormat::Directory);
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        if bytes.starts_with(b"PGDMP") {
            Ok(DumpFormat::Custom)
        } else if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
            Ok(DumpFormat::Tar)
        } else {
            Ok(DumpFormat::Plain)
        }
    }
}

impl Cluster {
    fn client_command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.installation.bin(program))
            .arg("-h")
            .arg(&self.socket_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-U")
            .arg(&self.settings.superuser);
        if let Some(password) = &self.settings.password {
            cmd = cmd.env("PGPASSWORD", password);
        }
        cmd
    }

    /// A psql invocation to configure; see [`Psql`].
    pub fn psql_cmd(&self) -> Psql<'_> {
        Psql {
            cluster: self,
            sql: None,
            file: None,
            input: None,
            dbname: "postgres".to_owned(),
            user: None,
            vars: Vec::new(),
            on_error_stop: true,
            args: Vec::new(),
        }
    }

    /// Runs SQL with psql in database `postgres`; returns exit code, stdout and stderr (an
    /// SQL error is not an `Err` here; see [`Cluster::safe_psql`]).
    pub fn psql(&self, sql: &str) -> Result<Output> {
        self.psql_cmd().sql(sql).run()
    }

    /// Runs SQL with psql; an error carries psql's stderr and the server log tail. Returns
    /// stdout (unaligned, tuples only).
    pub fn safe_psql(&self, sql: &str) -> Result<String> {
        self.psql_cmd().sql(sql).safe()
    }

    /// Opens a client connection to database `postgres` as the superuser.
    ///
    /// Transactions and isolation levels come from the `postgres` crate:
    /// `client.build_transaction().isolation_level(IsolationLevel::Serializable).start()?`.
    pub fn connect(&self) -> Result<postgres::Client> {
        self.connect_to("postgres")
    }

    /// Opens a client connection to `dbname` as the superuser.
    pub fn connect_to(&self, dbname: &str) -> Result<postgres::Client> {
        self.address().connect(dbname).map_err(|e| e.with_log_tail(|| self.error_log_tail()))
    }

    pub(crate) fn sql_error(&self, query: &str, source: postgres::Error) -> Error {
        let mut query = query.to_owned();
        if query.len() > 200 {
            let mut cut = 200;
            while !query.is_char_boundary(cut) {
                cut -= 1;
            }
            query.truncate(cut);
            query.push_str("...");
        }
        Error::Sql { cluster: self.name.clone(), query, source, log_tail: self.error_log_tail() }
    }

    /// Runs one statement over a new client connection and returns its typed rows.
    ///
    /// ```no_run
    /// # let cluster: pgfarm_pgnode::Cluster = todo!();
    /// let rows = cluster.execute("select 1::int4 as one, 'x'::text")?;
    /// let one: i32 = rows[0].get(0);
    /// # Ok::<(), pgfarm_pgnode::Error>(())
    /// ```
    pub fn execute(&self, sql: &str) -> Result<Vec<postgres::Row>> {
        self.execute_in("postgres", sql)
    }

    /// [`Cluster::execute`] in another database.
    pub fn execute_in(&self, dbname: &str, sql: &str) -> Result<Vec<postgres::Row>> {
        let mut client = self.connect_to(dbname)?;
        client.query(sql, &[]).map_err(|e| self.sql_error(sql, e))
    }

    /// Runs several statements (simple protocol, no results).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        let mut client = self.connect()?;
        client.batch_execute(sql).map_err(|e| self.sql_error(sql, e))
    }

    /// The first column of the first row, typed.
    pub fn query_scalar<T>(&self, sql: &str) -> Result<T>
    where
        T: for<'r> postgres::types::FromSql<'r>,
    {
        let mut client = self.connect()?;
        let row = client.query_one(sql, &[]).map_err(|e| self.sql_error(sql, e))?;
        row.try_get(0).map_err(|e| self.sql_error(sql, e))
    }

    /// Runs `sql` until the first column of its first row, as text, equals `expected` (like
    /// testgres' `poll_query_until`). Errors while polling (server still starting, table not
    /// yet there) count as "not yet"; the last one is reported on timeout.
    pub fn poll_query_until(&self, sql: &str, expected: &str, timeout: Duration) -> Result<()> {
        poll_query_until(&self.address(), "postgres", sql, expected, timeout)
            .map_err(|e| e.with_log_tail(|| self.error_log_tail()))
    }

    /// `pgbench -i` with these extra arguments (`["-s", "1"]`) on database `postgres`.
    pub fn pgbench_init(&self, args: &[&str]) -> Result<Output> {
        self.client_command("pgbench")
            .arg("-i")
            .args(args)
            .arg("postgres")
            .run()
            .map_err(|e| e.with_log_tail(|| self.error_log_tail()))
    }

    /// `pgbench` with these arguments (`["-T", "2", "-c", "2"]`) on database `postgres`;
    /// returns its output (the report is on stdout).
    pub fn pgbench_run(&self, args: &[&str]) -> Result<Output> {
        self.client_command("pgbench")
            .args(args)
            .arg("postgres")
            .run()
            .map_err(|e| e.with_log_tail(|| self.error_log_tail()))
    }

    /// `pg_dump` of `dbname` into `path` in `format`.
    pub fn dump(&self, dbname: &str, path: impl AsRef<Path>, format: DumpFormat) -> Result<()> {
        self.client_command("pg_dump")
            .arg("-F")
            .arg(format.flag())
            .arg("-f")
            .arg(path.as_ref())
            .arg(dbname)
            .run()
            .map_err(|e| e.with_log_tail(|| self.error_log_tail()))?;
        Ok(())
    }

    /// Restores a dump made by [`Cluster::dump`] (any format, detected) into the existing
    /// database `dbname`: psql for plain SQL, pg_restore for archives; stops at the first error.
    pub fn restore(&self, dbname: &str, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let out = match DumpFormat::detect(path)? {
            DumpFormat::Plain => self.psql_cmd().dbname(dbname).file(path).safe().map(|_| ()),
            _ => self
                .client_command("pg_restore")
                .arg("--exit-on-error")
                .arg("--no-owner")
                .arg("-d")
                .arg(dbname)
                .arg(path)
                .run()
                .map(|_| ()),
        };
        out.map_err(|e| e.with_log_tail(|| self.error_log_tail()))
    }

    /// `CREATE DATABASE name` (optionally from a template).
    pub fn create_database(&self, name: &str, template: Option<&str>) -> Result<()> {
        let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
        if let Some(template) = template {
            sql.push_str(&format!(" TEMPLATE {}", quote_ident(template)));
        }
        self.execute_batch(&sql)
    }
}

/// Quotes an SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal.
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub(crate) fn poll_query_until(
    address: &crate::cluster::ServerAddress,
    dbname: &str,
    sql: &str,
    expected: &str,
    timeout: Duration,
) -> Result<()> {
    let mut last = String::from("no answer yet");
    let mut client: Option<postgres::Client> = None;
    let done = process::wait_until(timeout, || {
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            match address.connect(dbname) {
                Ok(c) => client = Some(c),
                Err(e) => {
                    last = e.to_string();
                    return false;
                }
            }
        }
        let Some(c) = client.as_mut() else { return false };
        match c.simple_query(sql) {
            Ok(messages) => {
                let value = messages.iter().find_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
                    _ => None,
                });
                match value {
                    Some(Some(v)) if v == expected => true,
                    Some(Some(v)) => {
                        last = format!("got {v:?}");
                        false
                    }
                    Some(None) => {
                        last = "got NULL".to_owned();
                        false
                    }
                    None => {
                        last = "no rows".to_owned();
                        false
                    }
                }
            }
            Err(e) => {
                last = format!("error: {e}");
                false
            }
        }
    });
    if done {
        Ok(())
    } else {
        Err(Error::Timeout {
            what: format!("`{sql}` on {} to return {expected:?} (last: {last})", address.cluster),
            after: timeout,
            log_tail: String::new(),
        })
    }
}
