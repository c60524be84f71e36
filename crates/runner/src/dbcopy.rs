//! One database per job: a copy of a prepared database, made with
//! `CREATE DATABASE "DB_pgfarm_I" TEMPLATE "DB" [STRATEGY ..]` just before the job starts and
//! dropped with `DROP DATABASE IF EXISTS .. WITH (FORCE)` when it ends, so jobs running at
//! once cannot see or lock each other's objects. `regress --jobs` runs each positional test
//! in one, `prove --isolate` (and the farm's parallel TAP files) each script.
//!
//! The commands run through the caller's psql connected to the maintenance database
//! (`postgres`), so a copy is made the way the caller connects (flags or environment).

use crate::error::Result;
use crate::process::Spawn;

/// The copy of `template` a job runs in.
#[derive(Debug, Clone)]
pub(crate) struct DbCopy {
    /// psql connected to the maintenance database; each SQL command is added with `--command`.
    admin: Spawn,
    template: String,
    name: String,
    strategy: Option<String>,
}

/// `"name"`, with `"` doubled.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl DbCopy {
    /// The copy of `template` for job `index`, named `TEMPLATE_pgfarm_INDEX`. `admin` is a
    /// psql connected to the maintenance database; `strategy` is `CREATE DATABASE`'s
    /// `STRATEGY` (PostgreSQL 15+: `FILE_COPY` copies a small database faster than the
    /// default `WAL_LOG` where checkpoints are cheap, as on a throwaway server).
    pub(crate) fn new(
        admin: Spawn,
        template: &str,
        index: usize,
        strategy: Option<String>,
    ) -> DbCopy {
        DbCopy {
            admin: admin.args(["--set", "ON_ERROR_STOP=1"]),
            template: template.to_owned(),
            name: format!("{template}_pgfarm_{index}"),
            strategy,
        }
    }

    /// The copy's database name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Runs the commands in one psql (each its own transaction, as `--command` gives them).
    fn run(&self, commands: &[String]) -> Result<()> {
        let mut spawn = self.admin.clone();
        for sql in commands {
            spawn = spawn.arg("--command").arg(sql);
        }
        spawn.output_ok().map(|_| ())
    }

    /// Makes the copy (dropping a left-over one of the same name first).
    pub(crate) fn create(&self) -> Result<()> {
        let strategy = self.strategy.as_ref().map(|s| format!(" STRATEGY {s}")).unwrap_or_default();
        self.run(&[
            self.drop_sql(),
            format!(
                "CREATE DATABASE {} TEMPLATE {}{strategy}",
                quote(&self.name),
                quote(&self.template)
            ),
        ])
    }

    /// Drops the copy, ending its sessions; a failure is ignored (the server may be gone).
    pub(crate) fn drop_copy(&self) {
        let _ = self.run(&[self.drop_sql()]);
    }

    fn drop_sql(&self) -> String {
        format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(&self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_commands() {
        let admin = Spawn::new("psql").args(["--no-psqlrc", "--dbname", "postgres"]);
        let copy = DbCopy::new(admin, "tap\"db", 3, Some("FILE_COPY".into()));
        assert_eq!(copy.name(), "tap\"db_pgfarm_3");
        assert_eq!(copy.drop_sql(), "DROP DATABASE IF EXISTS \"tap\"\"db_pgfarm_3\" WITH (FORCE)");
        assert_eq!(
            copy.admin.display(),
            "psql --no-psqlrc --dbname postgres --set ON_ERROR_STOP=1"
        );
    }
}
