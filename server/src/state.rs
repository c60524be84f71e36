//! `AppState`: what every handler shares (store, configuration, server key, limits, metrics).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::db::Store;
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use crate::secrets::ServerKey;

/// Shared state of the server; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The resolved configuration.
    pub config: Arc<Config>,
    /// The key machine secrets are derived from.
    pub key: Arc<ServerKey>,
    /// Registrations per client address.
    pub registrations: Arc<RateLimiter>,
    /// Submissions per machine.
    pub submissions: Arc<RateLimiter>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The full matrix as last served.
    pub matrix: Arc<MatrixCache>,
}

impl AppState {
    /// State over an opened store.
    pub fn new(store: Arc<dyn Store>, config: Config, key: ServerKey) -> AppState {
        let registrations = RateLimiter::new(config.registrations_per_hour, 3600);
        let submissions = RateLimiter::new(config.submissions_per_minute, 60);
        AppState {
            store,
            config: Arc::new(config),
            key: Arc::new(key),
            registrations: Arc::new(registrations),
            submissions: Arc::new(submissions),
            metrics: Arc::new(Metrics::default()),
            matrix: Arc::new(MatrixCache::default()),
        }
    }
}

/// The serialised full matrix (`/api/v1/matrix` without filters: every cell, the front page's
/// read), reused until this process stores a run or [`MatrixCache::TTL`] passes. The time
/// limit bounds how long a run stored by another server process on the same PostgreSQL database
/// stays unseen; this process's own runs show at once.
#[derive(Debug, Default)]
pub struct MatrixCache {
    generation: AtomicU64,
    slot: Mutex<Option<CachedMatrix>>,
}

/// A cached matrix: its generation, when it was computed, the JSON body.
type CachedMatrix = (u64, Instant, Arc<Vec<u8>>);

impl MatrixCache {
    /// How long a cached matrix may be served.
    pub const TTL: Duration = Duration::from_secs(1);

    /// The current generation: read it before computing a matrix, hand it to `put`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A run was stored: the cached matrix is out of date.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The cached body, if it is of the current generation and younger than `TTL`.
    pub fn get(&self) -> Option<Arc<Vec<u8>>> {
        let generation = self.generation();
        let slot = self.slot.lock().ok()?;
        match slot.as_ref() {
            Some((cached, at, body)) if *cached == generation && at.elapsed() < Self::TTL => {
                Some(body.clone())
            }
            _ => None,
        }
    }

    /// Keeps `body`, computed from the database after `generation` was read; dropped if a run
    /// was stored meanwhile.
    pub fn put(&self, generation: u64, body: Arc<Vec<u8>>) {
        if let Ok(mut slot) = self.slot.lock()
            && generation == self.generation()
        {
            *slot = Some((generation, Instant::now(), body));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_run_invalidates_the_cached_matrix_and_a_stale_body_is_not_kept() {
        let cache = MatrixCache::default();
        assert!(cache.get().is_none());
        let generation = cache.generation();
        cache.put(generation, Arc::new(b"[1]".to_vec()));
        assert_eq!(cache.get().as_deref().map(Vec::as_slice), Some(&b"[1]"[..]));
        cache.invalidate();
        assert!(cache.get().is_none());
        // Computed before the invalidation: not kept.
        cache.put(generation, Arc::new(b"[old]".to_vec()));
        assert!(cache.get().is_none());
    }
}
