//! The unprivileged OS user that runs PostgreSQL's server programs when this process is root.

use std::path::PathBuf;

use nix::unistd::{Gid, Uid, User};

use crate::error::{Error, Result};

/// An OS account (name, uid, gid, home) that server programs are started as.
///
/// initdb, postgres, pg_ctl, pg_basebackup, pg_upgrade, pg_resetwal and pg_controldata refuse to
/// run as root. When this process is root, [`OsUser::for_servers`] resolves the configured user
/// (default `pgfarm`, env `PGFARM_PG_USER`) and [`crate::command::Command::run_as`] switches
/// the child to it (uid, gid and supplementary groups) between fork and exec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsUser {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory (set as `HOME` for the child).
    pub home: PathBuf,
}

impl OsUser {
    /// Looks a user up by name.
    pub fn by_name(name: &str) -> Result<OsUser> {
        match User::from_name(name) {
            Ok(Some(user)) => {
                if user.uid.is_root() {
                    return Err(Error::UserIsRoot { user: name.to_owned() });
                }
                Ok(OsUser {
                    name: user.name,
                    uid: user.uid.as_raw(),
                    gid: user.gid.as_raw(),
                    home: user.dir,
                })
            }
            Ok(None) | Err(_) => Err(Error::UserMissing { user: name.to_owned() }),
        }
    }

    /// The user server programs must run as: `None` when this process is not root (they run as
    /// the current user), otherwise the user named `name`.
    pub fn for_servers(name: &str) -> Result<Option<OsUser>> {
        if is_root() { OsUser::by_name(name).map(Some) } else { Ok(None) }
    }

    pub(crate) fn gid(&self) -> Gid {
        Gid::from_raw(self.gid)
    }
}

/// True when this process's effective user is root.
pub fn is_root() -> bool {
    Uid::effective().is_root()
}

/// The name of the effective user of this process (for default role and folder names).
pub(crate) fn current_user_name() -> String {
    User::from_uid(Uid::effective())
        .ok()
        .flatten()
        .map(|user| user.name)
        .unwrap_or_else(|| format!("uid{}", Uid::effective().as_raw()))
}
