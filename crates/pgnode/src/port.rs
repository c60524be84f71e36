//! TCP port allocation that is safe across threads and processes: a lock file per port plus a
//! bind check.
//!
//! A [`PortLease`] holds an exclusive `flock` on `<tmp>/pgfarm-ports/<port>.lock` for as long as
//! the cluster lives. flock locks belong to open file descriptions, so two threads of one
//! process conflict exactly like two processes do, and the kernel drops the lock when a process
//! dies, so a killed test never leaks a reservation. The bind check skips ports that something
//! outside pgfarm is listening on. A start that still loses a race ("address already in use")
//! is retried on a new port by the cluster.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};

use nix::fcntl::Flock;

use crate::error::{Error, Result};

/// First port of the allocation range.
pub const FIRST_PORT: u16 = 20000;
/// Last port of the allocation range.
pub const LAST_PORT: u16 = 29999;

/// A reserved port; the reservation ends when this is dropped.
#[derive(Debug)]
pub struct PortLease {
    port: u16,
    _lock: Flock<File>,
}

impl PortLease {
    /// The port number.
    pub fn port(&self) -> u16 {
        self.port
    }
}

fn try_lock(port: u16) -> Result<Option<Flock<File>>> {
    crate::lockfile::try_lock("pgfarm-ports", &format!("{port}.lock"))
}

fn bindable(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Reserves a free port from [`FIRST_PORT`]..=[`LAST_PORT`], starting at a random place.
pub fn reserve_any() -> Result<PortLease> {
    let span = u32::from(LAST_PORT - FIRST_PORT) + 1;
    let start = fastrand::u32(0..span);
    for step in 0..span {
        let port = FIRST_PORT + ((start + step) % span) as u16;
        if let Some(lock) = try_lock(port)?
            && bindable(port)
        {
            return Ok(PortLease { port, _lock: lock });
        }
    }
    Err(Error::NoFreePort { first: FIRST_PORT, last: LAST_PORT })
}

/// Reserves a given port; fails with [`Error::PortInUse`] when another pgfarm cluster holds it
/// or something is listening on it.
pub fn reserve(port: u16) -> Result<PortLease> {
    let Some(lock) = try_lock(port)? else {
        return Err(Error::PortInUse {
            port,
            reason: "reserved by another pgfarm cluster".to_owned(),
        });
    };
    if !bindable(port) {
        return Err(Error::PortInUse {
            port,
            reason: "another process is listening on 127.0.0.1".to_owned(),
        });
    }
    Ok(PortLease { port, _lock: lock })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_leases_never_share_a_port_and_a_held_port_is_refused() {
        let a = reserve_any().unwrap();
        let b = reserve_any().unwrap();
        assert_ne!(a.port(), b.port());
        let err = reserve(a.port()).unwrap_err();
        assert!(matches!(err, Error::PortInUse { .. }), "{err}");
        let port = a.port();
        drop(a);
        let again = reserve(port).unwrap();
        assert_eq!(again.port(), port);
    }

    #[test]
    fn a_listening_port_is_refused() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = reserve(port).unwrap_err();
        assert!(err.to_string().contains("listening"), "{err}");
    }
}
