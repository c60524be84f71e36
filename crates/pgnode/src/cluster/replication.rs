//! Copies of a cluster: base backups, streaming replicas, logical publications and
//! subscriptions, and pg_upgrade to a newer installation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cluster::client::{poll_query_until, quote_ident, quote_literal};
use crate::cluster::{Cluster, ClusterBuilder, ServerAddress, Status};
use crate::command::Command;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::installation::Installation;

/// How pg_basebackup gets the WAL needed to make the backup consistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WalMethod {
    /// Collect WAL at the end of the backup (`-X fetch`).
    Fetch,
    /// Stream WAL while the backup runs (`-X stream`, default).
    #[default]
    Stream,
}

/// A base backup (pg_basebackup) of a cluster; spawn primaries or replicas from it. Its folder
/// is removed on drop.
#[derive(Debug)]
pub struct Backup {
    dir: PathBuf,
    source: ServerAddress,
    template: ClusterBuilder,
}

impl Backup {
    /// The backup's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn spawn(&self, name: &str) -> Result<Cluster> {
        let builder = self.template.clone().name(name);
        let config = builder.config.clone().unwrap_or_else(crate::Config::current);
        let os_user =
            crate::OsUser::for_servers(builder.pg_user.as_deref().unwrap_or(&config.pg_user))?;
        let cluster = Cluster::new_folder(
            &builder.installation,
            name.to_owned(),
            config,
            os_user,
            builder.settings.clone(),
            builder.port,
        )?;
        fsutil::copy_tree(&self.data_dir(), &cluster.data_dir, cluster.os_user.as_ref())?;
        for leftover in ["standby.signal", "recovery.signal", "postmaster.opts"] {
            let _ = std::fs::remove_file(cluster.data_dir.join(leftover));
        }
        Ok(cluster)
    }

    /// A new stopped cluster made from the backup, running as a primary.
    pub fn spawn_primary(&self, name: &str) -> Result<Cluster> {
        self.spawn(name)
    }

    /// A new stopped cluster made from the backup, configured as a streaming standby of the
    /// backed-up cluster (`standby.signal`, `primary_conninfo` with `application_name` = its
    /// name). Start it, then use [`Cluster::catchup`].
    pub fn spawn_replica(&self, name: &str) -> Result<Cluster> {
        let mut replica = self.spawn(name)?;
        let conninfo =
            format!("{} application_name={}", self.source.conninfo("postgres"), replica.name);
        replica.set_auto_conf("primary_conninfo", &conninfo)?;
        fsutil::write_file(
            &replica.data_dir.join("standby.signal"),
            b"",
            replica.os_user.as_ref(),
        )?;
        replica.primary = Some(self.source.clone());
        Ok(replica)
    }
}

impl Drop for Backup {
    fn drop(&mut self) {
        let _ = fsutil::remove_tree(&self.dir);
    }
}

/// A logical replication publication on a publisher cluster.
#[derive(Clone, Debug)]
pub struct Publication {
    name: String,
    dbname: String,
    publisher: ServerAddress,
}

impl Publication {
    /// The publication's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn exec(&self, sql: &str) -> Result<()> {
        let mut client = self.publisher.connect(&self.dbname)?;
        client.batch_execute(sql).map_err(|source| Error::Sql {
            cluster: self.publisher.cluster.clone(),
            query: sql.to_owned(),
            source,
            log_tail: String::new(),
        })
    }

    /// `ALTER PUBLICATION ... ADD TABLE ...` (subscribers then need [`Subscription::refresh`]).
    pub fn add_tables(&self, tables: &[&str]) -> Result<()> {
        let list: Vec<String> = tables.iter().map(|t| qualified(t)).collect();
        self.exec(&format!(
            "ALTER PUBLICATION {} ADD TABLE {}",
            quote_ident(&self.name),
            list.join(", ")
        ))
    }

    /// `DROP PUBLICATION`.
    pub fn drop_publication(self) -> Result<()> {
        self.exec(&format!("DROP PUBLICATION {}", quote_ident(&self.name)))
    }
}

/// A logical replication subscription on a subscriber cluster.
#[derive(Clone, Debug)]
pub struct Subscription {
    name: String,
    dbname: String,
    subscriber: ServerAddress,
    publication: Publication,
}

impl Subscription {
    /// The subscription's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn exec(&self, sql: &str) -> Result<()> {
        let mut client = self.subscriber.connect(&self.dbname)?;
        client.batch_execute(sql).map_err(|source| Error::Sql {
            cluster: self.subscriber.cluster.clone(),
            query: sql.to_owned(),
            source,
            log_tail: String::new(),
        })
    }

    /// `ALTER SUBSCRIPTION ... REFRESH PUBLICATION` (picks up added tables).
    pub fn refresh(&self) -> Result<()> {
        self.exec(&format!("ALTER SUBSCRIPTION {} REFRESH PUBLICATION", quote_ident(&self.name)))
    }

    /// `ALTER SUBSCRIPTION ... ENABLE`.
    pub fn enable(&self) -> Result<()> {
        self.exec(&format!("ALTER SUBSCRIPTION {} ENABLE", quote_ident(&self.name)))
    }

    /// `ALTER SUBSCRIPTION ... DISABLE`.
    pub fn disable(&self) -> Result<()> {
        self.exec(&format!("ALTER SUBSCRIPTION {} DISABLE", quote_ident(&self.name)))
    }

    /// `DROP SUBSCRIPTION` (also drops its slot on the publisher).
    pub fn drop_subscription(self) -> Result<()> {
        self.exec(&format!("DROP SUBSCRIPTION {}", quote_ident(&self.name)))
    }

    /// Waits until every table finished its initial copy and the subscriber has replayed all
    /// WAL the publisher had written when this was called.
    pub fn catchup(&self, timeout: Duration) -> Result<()> {
        poll_query_until(
            &self.subscriber,
            &self.dbname,
            "select count(*) = 0 from pg_subscription_rel where srsubstate not in ('r', 's')",
            "t",
            timeout,
        )?;
        let mut client = self.publication.publisher.connect(&self.publication.dbname)?;
        let lsn: String = client
            .query_one("select pg_current_wal_lsn()::text", &[])
            .and_then(|row| row.try_get(0))
            .map_err(|source| Error::Sql {
                cluster: self.publication.publisher.cluster.clone(),
                query: "select pg_current_wal_lsn()".to_owned(),
                source,
                log_tail: String::new(),
            })?;
        let sql = format!(
            "select coalesce(bool_and(replay_lsn >= {}::pg_lsn), false) from pg_stat_replication where application_name = {}",
            quote_literal(&lsn),
            quote_literal(&self.name)
        );
        poll_query_until(&self.publication.publisher, &self.publication.dbname, &sql, "t", timeout)
    }
}

fn qualified(table: &str) -> String {
    match table.split_once('.') {
        Some((schema, name)) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(table),
    }
}

impl Cluster {
    fn template(&self) -> ClusterBuilder {
        let mut builder = Cluster::builder(&self.installation).config(self.config.clone());
        builder.settings = self.settings.clone();
        if let Some(user) = &self.os_user {
            builder = builder.pg_user(user.name.clone());
        }
        builder
    }

    /// Takes a base backup with pg_basebackup (as the server's OS user, over the socket).
    pub fn backup(&self, wal: WalMethod) -> Result<Backup> {
        self.running_pid()?;
        let backups = self.config.base_dir.join("backups");
        fsutil::create_dir(&backups, 0o755, self.os_user.as_ref())?;
        let dir = backups.join(format!("{}-{:06x}", self.name, fastrand::u32(..0x100_0000)));
        fsutil::create_dir(&dir, 0o755, self.os_user.as_ref())?;
        let mut cmd = Command::new(self.installation.bin("pg_basebackup"))
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-X")
            .arg(match wal {
                WalMethod::Fetch => "fetch",
                WalMethod::Stream => "stream",
            })
            .args(["-c", "fast", "--no-sync"])
            .arg("-h")
            .arg(&self.socket_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-U")
            .arg(&self.settings.superuser)
            .run_as(self.os_user.as_ref());
        if let Some(password) = &self.settings.password {
            cmd = cmd.env("PGPASSWORD", password);
        }
        if let Err(err) = cmd.run() {
            let _ = fsutil::remove_tree(&dir);
            return Err(err.with_log_tail(|| self.error_log_tail()));
        }
        Ok(Backup { dir, source: self.address(), template: self.template() })
    }

    /// Backup + [`Backup::spawn_replica`] + start: a running streaming standby named `name`.
    pub fn replicate(&self, name: &str) -> Result<Cluster> {
        let backup = self.backup(WalMethod::Stream)?;
        let mut replica = backup.spawn_replica(name)?;
        replica.start()?;
        Ok(replica)
    }

    /// On a replica: waits until it has replayed everything its primary had written when this
    /// was called.
    pub fn catchup(&self, timeout: Duration) -> Result<()> {
        let primary = self.primary.clone().ok_or_else(|| Error::State {
            cluster: self.name.clone(),
            reason: "catchup() needs a replica made by spawn_replica() or replicate()".to_owned(),
        })?;
        let mut client = primary.connect("postgres")?;
        let lsn: String = client
            .query_one("select pg_current_wal_lsn()::text", &[])
            .and_then(|row| row.try_get(0))
            .map_err(|source| Error::Sql {
                cluster: primary.cluster.clone(),
                query: "select pg_current_wal_lsn()".to_owned(),
                source,
                log_tail: String::new(),
            })?;
        let sql = format!("select pg_last_wal_replay_lsn() >= {}::pg_lsn", quote_literal(&lsn));
        self.poll_query_until(&sql, "t", timeout)
    }

    /// The primary a replica streams from.
    pub fn primary(&self) -> Option<&ServerAddress> {
        self.primary.as_ref()
    }

    /// `CREATE PUBLICATION name FOR TABLE ...` (or `FOR ALL TABLES` when `tables` is empty) in
    /// `dbname`. The cluster needs [`ClusterBuilder::logical`].
    pub fn publish(&self, name: &str, dbname: &str, tables: &[&str]) -> Result<Publication> {
        let target = if tables.is_empty() {
            "ALL TABLES".to_owned()
        } else {
            format!("TABLE {}", tables.iter().map(|t| qualified(t)).collect::<Vec<_>>().join(", "))
        };
        let sql = format!("CREATE PUBLICATION {} FOR {target}", quote_ident(name));
        let mut client = self.connect_to(dbname)?;
        client.batch_execute(&sql).map_err(|e| self.sql_error(&sql, e))?;
        Ok(Publication {
            name: name.to_owned(),
            dbname: dbname.to_owned(),
            publisher: self.address(),
        })
    }

    /// `CREATE SUBSCRIPTION name CONNECTION ... PUBLICATION ...` on this cluster, in the
    /// database of the same name as the publication's.
    pub fn subscribe(&self, publication: &Publication, name: &str) -> Result<Subscription> {
        let sql = format!(
            "CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {}",
            quote_ident(name),
            quote_literal(&publication.publisher.conninfo(&publication.dbname)),
            quote_ident(&publication.name)
        );
        let mut client = self.connect_to(&publication.dbname)?;
        client.batch_execute(&sql).map_err(|e| self.sql_error(&sql, e))?;
        Ok(Subscription {
            name: name.to_owned(),
            dbname: publication.dbname.clone(),
            subscriber: self.address(),
            publication: publication.clone(),
        })
    }

    /// Upgrades this cluster to `new_installation` with pg_upgrade (`--copy`) and returns the
    /// new, stopped cluster (same superuser, locale, encoding and data checksum setting). This
    /// cluster is stopped first and left as it was (pg_upgrade does not modify it in copy mode).
    pub fn upgrade_to(&mut self, new_installation: &Installation) -> Result<Cluster> {
        if self.status() == Status::Running {
            self.stop()?;
        }
        let control = self.control_data()?;
        let checksums = control.get("Data page checksum version").is_some_and(|v| v.trim() != "0");
        let mut builder = self.template();
        builder.installation = new_installation.clone();
        builder.name = Some(format!("{}-pg{}", self.name, new_installation.major()));
        builder.port = None;
        let new = builder.data_checksums(checksums).init()?;
        let out = Command::new(new_installation.bin("pg_upgrade"))
            .arg("-b")
            .arg(&self.installation.bindir)
            .arg("-B")
            .arg(&new_installation.bindir)
            .arg("-d")
            .arg(&self.data_dir)
            .arg("-D")
            .arg(&new.data_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-P")
            .arg(new.port.to_string())
            .arg("-s")
            .arg(&new.socket_dir)
            .arg("-U")
            .arg(&self.settings.superuser)
            .env("LC_ALL", "C")
            .current_dir(&new.dir)
            .run_as(self.os_user.as_ref())
            .run();
        match out {
            Ok(_) => Ok(new),
            Err(err) => Err(err.with_log_tail(|| upgrade_log_tail(&new.data_dir, &new.dir))),
        }
    }
}

/// The end of pg_upgrade's own logs (they say why it failed).
fn upgrade_log_tail(new_data: &Path, new_dir: &Path) -> String {
    let mut logs = Vec::new();
    for root in [new_data.join("pg_upgrade_output.d"), new_dir.to_path_buf()] {
        for entry in walk(&root) {
            if entry.extension().is_some_and(|e| e == "log" || e == "txt") {
                logs.push(entry);
            }
        }
    }
    logs.iter()
        .filter_map(|path| {
            std::fs::read_to_string(path)
                .ok()
                .map(|text| format!("{}:\n{}", path.display(), crate::error::last_lines(&text, 10)))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
