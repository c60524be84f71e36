//! `AppState`: what every handler shares (store, configuration, server key, limits, metrics).

use std::sync::Arc;

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
        }
    }
}
