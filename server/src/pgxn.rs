//! The PGXN sync: imports distributions, releases (status, date, abstract, uploader, META
//! prerequisites and PostgreSQL range, download URL and SHA-1) and their authors from a PGXN
//! mirror or API server into the store, where the work queue finds them.
//!
//! One pass ([`sync`]) is `pgfarm-server pgxn sync --mirror URL`; the running server repeats it
//! every `--pgxn-interval` with `--pgxn-mirror URL` ([`spawn_periodic`]). Every document is read
//! with `pgfarm_pgxn::Client` (blocking, so the pass runs in `spawn_blocking`); everything a pass
//! learned is written in one short transaction at its end, so reads never wait for the network.
//!
//! # Incremental
//!
//! A pass reads `index.json` and `stats/dist.json`. The fingerprint of the latter's `recent`
//! list (the 56 newest releases of any status) and its release count is kept per mirror
//! (`pgxn_mirrors`): when it is unchanged, nothing was released since the last pass, and the
//! pass ends there having written nothing. Otherwise only the dists of the recent releases not
//! yet stored are read; a dist document whose SHA-256 equals the stored one (`pgxn_dists`) is
//! not read further, and only the releases not yet stored get their META.json read.
//!
//! # Enumerating every distribution
//!
//! `stats/dist.json` lists only the 56 newest releases, so the first pass (and a pass that finds
//! the oldest recent release unknown while the mirror has more releases than it lists: more
//! than 56 releases since the last pass) enumerates. No plain mirror document lists every
//! distribution (a mirror's folder listing is not an API): the API server's `userlist` template
//! (`/users/{letter}.json`, as PGXN Tester used) lists every user, and each user document
//! (`/user/{user}.json`) lists that user's distributions with their releases. With a plain
//! mirror (no `userlist` in its index) the users are the uploaders named by `stats/dist.json`,
//! so only the distributions of users who released recently are found; point the first sync at
//! the API server (`https://api.pgxn.org/`) for the whole network.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pgfarm_pgxn::{Client, Dist, DistStats, Meta, PgRange, User};
use serde::Deserialize;
use sha2::Digest as _;

use crate::db::{PgxnBatch, PgxnReleaseRow, PgxnUserRow, Store};

/// Largest document read (as `pgfarm_pgxn::Limits::default`).
const DOCUMENT_BYTES: u64 = 16 << 20;
/// Documents fetched at a time.
const FETCHERS: usize = 4;

/// A failed pass; nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A document could not be read or is not what PGXN serves.
    #[error("PGXN sync from {mirror}: {source}")]
    Pgxn {
        /// The base URL.
        mirror: String,
        /// The client's error (it names the URL).
        source: pgfarm_pgxn::Error,
    },
    /// The store refused the batch.
    #[error("PGXN sync from {mirror}: storing: {source}")]
    Store {
        /// The base URL.
        mirror: String,
        /// Why.
        source: crate::db::DbError,
    },
    /// The blocking task died (a bug).
    #[error("PGXN sync from {mirror}: {message}")]
    Task {
        /// The base URL.
        mirror: String,
        /// What happened.
        message: String,
    },
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The mirror's base URL.
    pub mirror: String,
    /// `stats/dist.json` was as at the last pass: nothing read further, nothing written.
    pub unchanged: bool,
    /// The pass enumerated every distribution (first pass, or a gap in `recent`).
    pub enumerated: bool,
    /// Documents read (index.json included).
    pub documents: usize,
    /// Dist documents read.
    pub dists_read: usize,
    /// Releases written (new, or newly seen from PGXN).
    pub releases_written: usize,
    /// Users written.
    pub users_written: usize,
    /// Releases left out, each with the reason (an invalid or missing META.json).
    pub skipped: Vec<String>,
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.unchanged {
            return write!(
                f,
                "{}: unchanged since the last sync ({} documents read)",
                self.mirror, self.documents
            );
        }
        write!(
            f,
            "{}: {} releases and {} users written, {} dists and {} documents read{}",
            self.mirror,
            self.releases_written,
            self.users_written,
            self.dists_read,
            self.documents,
            if self.enumerated { " (all distributions enumerated)" } else { "" }
        )?;
        if !self.skipped.is_empty() {
            write!(f, ", {} releases skipped", self.skipped.len())?;
        }
        Ok(())
    }
}

/// One pass over `mirror`: reads what changed and writes it in one transaction.
pub async fn sync(store: &dyn Store, mirror: &str) -> Result<SyncReport, SyncError> {
    let mirror = mirror.to_owned();
    let pgxn = |source| SyncError::Pgxn { mirror: mirror.clone(), source };
    let db = |source| SyncError::Store { mirror: mirror.clone(), source };
    let task = |err: tokio::task::JoinError| SyncError::Task {
        mirror: mirror.clone(),
        message: err.to_string(),
    };

    let base = mirror.clone();
    let (client, stats, documents) = tokio::task::spawn_blocking(move || {
        let client = Client::new(&base)?;
        let stats = client.dist_stats()?;
        Ok::<_, pgfarm_pgxn::Error>((client, stats, 2))
    })
    .await
    .map_err(task)?
    .map_err(pgxn)?;
    let fingerprint = fingerprint(&stats);
    let mut report = SyncReport { mirror: mirror.clone(), documents, ..SyncReport::default() };
    let previous = store.pgxn_fingerprint(&mirror).await.map_err(db)?;
    if previous.as_deref() == Some(fingerprint.as_str()) {
        report.unchanged = true;
        return Ok(report);
    }

    let known: HashSet<(String, String)> =
        store.pgxn_releases().await.map_err(db)?.into_iter().collect();
    let hashes: HashMap<String, String> =
        store.pgxn_dist_hashes(&mirror).await.map_err(db)?.into_iter().collect();
    let users: HashMap<String, PgxnUserRow> = store
        .pgxn_user_rows()
        .await
        .map_err(db)?
        .into_iter()
        .map(|user| (user.nickname.clone(), user))
        .collect();
    let is_known =
        |dist: &str, version: &str| known.contains(&(dist.to_lowercase(), version.to_owned()));
    let gap = stats.recent.last().is_some_and(|oldest| !is_known(&oldest.dist, &oldest.version))
        && (stats.recent.len() as u64) < stats.releases;
    let enumerate = previous.is_none() || gap;
    report.enumerated = enumerate;

    let plan = Plan { client, stats, known, hashes, users, enumerate };
    let (batch, pass) =
        tokio::task::spawn_blocking(move || plan.run()).await.map_err(task)?.map_err(pgxn)?;
    report.documents += pass.documents;
    report.dists_read = pass.dists_read;
    report.skipped = pass.skipped;
    report.releases_written = batch.releases.len();
    report.users_written = batch.users.len();
    let batch = PgxnBatch {
        mirror: mirror.clone(),
        recent_fingerprint: fingerprint,
        now: crate::now_ms(),
        ..batch
    };
    store.pgxn_apply(&batch).await.map_err(db)?;
    Ok(report)
}

/// Runs [`sync`] now and then every `interval` until the task is aborted; a failed pass is
/// logged and retried at the next tick.
pub fn spawn_periodic(
    store: std::sync::Arc<dyn Store>,
    mirror: String,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match sync(store.as_ref(), &mirror).await {
                Ok(report) => tracing::info!(%report, "PGXN sync"),
                Err(err) => tracing::warn!(%err, "PGXN sync failed; retrying at the next interval"),
            }
        }
    })
}

/// The fingerprint of `stats/dist.json`: its release count and `recent` list.
fn fingerprint(stats: &DistStats) -> String {
    let mut hash = sha2::Sha256::new();
    hash.update(format!("{} {}\n", stats.count, stats.releases));
    for recent in &stats.recent {
        hash.update(format!("{}\0{}\0{}\n", recent.dist, recent.version, recent.date));
    }
    hex::encode(hash.finalize())
}

/// The PostgreSQL majors a META range allows, as the queue's bounds: `(None, None)` for any;
/// a range that allows no major gives `(Some(1), Some(0))`, never queued. `PgRange::allows_major`
/// judges each clause as a bound, so the allowed majors are one interval.
pub fn major_bounds(range: &PgRange) -> (Option<i64>, Option<i64>) {
    const TOP: u32 = 1000;
    let Some(low) = (0..=TOP).find(|major| range.allows_major(*major)) else {
        return (Some(1), Some(0));
    };
    let high = (low..=TOP).rev().find(|major| range.allows_major(*major)).unwrap_or(low);
    ((low > 0).then_some(i64::from(low)), (high < TOP).then_some(i64::from(high)))
}

/// The PGXN page of a release.
pub fn release_page(dist: &str, version: &str) -> String {
    format!("https://pgxn.org/dist/{}/{}/", dist.to_lowercase(), version.to_lowercase())
}

/// The PGXN page of a user.
pub fn user_page(nickname: &str) -> String {
    format!("https://pgxn.org/user/{}/", nickname.to_lowercase())
}

/// An entry of the API server's `/users/{letter}.json`.
#[derive(Debug, Deserialize)]
struct UserListEntry {
    user: String,
}

/// What a pass reads, decided from the stored state.
struct Plan {
    client: Client,
    stats: DistStats,
    known: HashSet<(String, String)>,
    hashes: HashMap<String, String>,
    users: HashMap<String, PgxnUserRow>,
    enumerate: bool,
}

#[derive(Default)]
struct Pass {
    documents: usize,
    dists_read: usize,
    skipped: Vec<String>,
}

impl Plan {
    fn run(self) -> pgfarm_pgxn::Result<(PgxnBatch, Pass)> {
        let documents = AtomicUsize::new(0);
        let client = &self.client;
        let read = |url: &str| {
            documents.fetch_add(1, Ordering::Relaxed);
            client.get(url, DOCUMENT_BYTES)
        };
        let mut user_docs: BTreeMap<String, User> = BTreeMap::new();
        // dist (lowercased) -> true when a recent release of it is unknown (read it even when
        // its document hash is unchanged: the hash was stored before a META failed to read)
        let mut dists: BTreeSet<String> = BTreeSet::new();
        for recent in &self.stats.recent {
            if !self.known.contains(&(recent.dist.to_lowercase(), recent.version.clone())) {
                dists.insert(recent.dist.to_lowercase());
            }
        }
        if self.enumerate {
            let mut nicknames: BTreeSet<String> =
                self.stats.recent.iter().map(|recent| recent.user.to_lowercase()).collect();
            if client.index().templates.contains_key("userlist") {
                let letters: Vec<char> = ('a'..='z').collect();
                let lists =
                    par_map(&letters, |letter| {
                        let url = client.url("userlist", &[("letter", &letter.to_string())])?;
                        match read(&url) {
                            Ok(bytes) => serde_json::from_slice::<Vec<UserListEntry>>(&bytes)
                                .map_err(|err| pgfarm_pgxn::Error::Document {
                                    url,
                                    document: "userlist",
                                    reason: err.to_string(),
                                }),
                            Err(pgfarm_pgxn::Error::NotFound { .. }) => Ok(Vec::new()),
                            Err(err) => Err(err),
                        }
                    });
                for list in lists {
                    nicknames.extend(list?.into_iter().map(|entry| entry.user.to_lowercase()));
                }
            }
            let nicknames: Vec<String> = nicknames.into_iter().collect();
            let docs = par_map(&nicknames, |nickname| {
                documents.fetch_add(1, Ordering::Relaxed);
                client.user(nickname)
            });
            for doc in docs {
                let doc = doc?;
                dists.extend(doc.releases.keys().map(|dist| dist.to_lowercase()));
                user_docs.insert(doc.nickname.to_lowercase(), doc);
            }
            dists.extend(self.stats.recent.iter().map(|recent| recent.dist.to_lowercase()));
        }

        // The dist documents, then the META of every release not stored yet.
        let dists: Vec<String> = dists.into_iter().collect();
        let dist_docs = par_map(&dists, |dist| {
            let url = client.url("dist", &[("dist", dist)])?;
            let bytes = read(&url)?;
            let hash = hex::encode(sha2::Sha256::digest(&bytes));
            let doc: Dist =
                serde_json::from_slice(&bytes).map_err(|err| pgfarm_pgxn::Error::Document {
                    url: url.clone(),
                    document: "dist",
                    reason: err.to_string(),
                })?;
            Ok::<_, pgfarm_pgxn::Error>((dist.clone(), hash, doc))
        });
        let mut pass = Pass { dists_read: dists.len(), ..Pass::default() };
        let mut batch = PgxnBatch::default();
        let mut wanted: Vec<(String, String)> = Vec::new();
        for doc in dist_docs {
            let (dist, hash, doc) = doc?;
            let unknown: Vec<(String, String)> = doc
                .releases
                .iter()
                .filter(|(_, entry)| !self.known.contains(&(dist.clone(), entry.version.clone())))
                .map(|(_, entry)| (doc.name.clone(), entry.version.clone()))
                .collect();
            if self.hashes.get(&dist) != Some(&hash) {
                batch.dists.push((dist.clone(), doc.name.clone(), hash));
            }
            wanted.extend(unknown);
        }
        let metas = par_map(&wanted, |(dist, version)| {
            documents.fetch_add(1, Ordering::Relaxed);
            let meta = client.meta(dist, version);
            let download = client.download_url(dist, version);
            (dist.clone(), version.clone(), meta, download)
        });
        let mut uploaders: BTreeSet<String> = BTreeSet::new();
        for (dist, version, meta, download) in metas {
            let meta = match meta {
                Ok(meta) => meta,
                Err(
                    err @ (pgfarm_pgxn::Error::NotFound { .. }
                    | pgfarm_pgxn::Error::Meta { .. }
                    | pgfarm_pgxn::Error::Field { .. }
                    | pgfarm_pgxn::Error::Document { .. }),
                ) => {
                    pass.skipped.push(format!("{dist} {version}: {err}"));
                    continue;
                }
                Err(err) => return Err(err),
            };
            uploaders.insert(meta.user.to_lowercase());
            batch.releases.push(release_row(&meta, download?));
        }

        // Users: every enumerated one, and the uploaders of new releases not stored yet.
        let missing: Vec<String> = uploaders
            .into_iter()
            .filter(|nickname| {
                !user_docs.contains_key(nickname) && !self.users.contains_key(nickname)
            })
            .collect();
        let fetched = par_map(&missing, |nickname| {
            documents.fetch_add(1, Ordering::Relaxed);
            (nickname.clone(), client.user(nickname))
        });
        for (nickname, doc) in fetched {
            match doc {
                Ok(doc) => {
                    user_docs.insert(nickname, doc);
                }
                Err(pgfarm_pgxn::Error::NotFound { url }) => {
                    pass.skipped.push(format!("user {nickname}: {url} not found"));
                }
                Err(err) => return Err(err),
            }
        }
        for (nickname, doc) in user_docs {
            let row = PgxnUserRow {
                nickname: nickname.clone(),
                name: doc.name.clone(),
                uri: doc.uri.clone().filter(|uri| !uri.is_empty()),
            };
            if self.users.get(&nickname) != Some(&row) {
                batch.users.push(row);
            }
        }
        pass.documents = documents.into_inner();
        Ok((batch, pass))
    }
}

/// The stored row of a release.
fn release_row(meta: &Meta, download_url: String) -> PgxnReleaseRow {
    let (pg_min, pg_max) = major_bounds(&meta.postgres);
    let prereqs: Vec<serde_json::Value> = meta
        .requires
        .iter()
        .map(|p| serde_json::json!({"phase": p.phase, "package": p.package, "range": p.range}))
        .collect();
    PgxnReleaseRow {
        dist: meta.name.clone(),
        version: meta.version.clone(),
        release_status: meta.release_status.as_str().to_owned(),
        released_at: parse_date(&meta.date).unwrap_or_else(crate::now_ms),
        abstract_text: meta.abstract_.clone(),
        user: meta.user.to_lowercase(),
        pg_range: meta.postgres.text.clone(),
        pg_min,
        pg_max,
        prereqs: serde_json::Value::Array(prereqs).to_string(),
        download_url,
        sha1: meta.digests.sha1.clone(),
    }
}

/// RFC 3339 to unix milliseconds.
fn parse_date(date: &str) -> Option<i64> {
    let at =
        time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `f` over `items` on up to [`FETCHERS`] threads, results in input order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let threads = FETCHERS.min(items.len());
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_bounds_follow_allows_major() {
        let bounds = |text: &str| major_bounds(&PgRange::parse(text).unwrap());
        assert_eq!(bounds("0"), (None, None));
        assert_eq!(bounds("16.0.0"), (Some(16), None));
        assert_eq!(bounds(">= 14.0.0, < 18.0.0"), (Some(14), Some(17)));
        assert_eq!(bounds("< 18.1"), (None, Some(18)));
        assert_eq!(bounds(">= 9.1.0"), (Some(9), None));
        assert_eq!(bounds(">= 17, < 15"), (Some(1), Some(0)));
        // every major between the bounds is allowed (one interval)
        for text in [">= 14, <= 16", "== 15", ">= 13, != 14.2, < 18"] {
            let range = PgRange::parse(text).unwrap();
            let (low, high) = major_bounds(&range);
            for major in low.unwrap_or(0)..=high.unwrap_or(99) {
                assert!(range.allows_major(major as u32), "{text}: {major}");
            }
        }
    }

    #[test]
    fn pgxn_pages_are_lowercased() {
        assert_eq!(release_page("pgTAP", "1.3.3"), "https://pgxn.org/dist/pgtap/1.3.3/");
        assert_eq!(user_page("Theory"), "https://pgxn.org/user/theory/");
    }

    #[test]
    fn par_map_keeps_the_input_order() {
        let items: Vec<u32> = (0..100).collect();
        assert_eq!(par_map(&items, |i| i * 2), items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(par_map(&Vec::<u32>::new(), |i| *i).is_empty());
    }
}
