//! `Machine`: the computer a run happened on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The computer a run happened on (format: docs/bundle-format.md, "machine").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Machine {
    /// Name the machine is registered under on the server (its identity), e.g. `"bookworm-x86"`.
    pub name: String,
    /// Operating system, e.g. `"linux"`, `"macos"`, `"freebsd"` (Rust's `std::env::consts::OS`).
    pub os: String,
    /// Release of the operating system, e.g. `"Debian GNU/Linux 12 (bookworm)"`.
    pub os_version: String,
    /// CPU architecture, e.g. `"x86_64"`, `"aarch64"` (Rust's `std::env::consts::ARCH`).
    pub arch: String,
    /// The C compiler used to build the extension, as it names itself, e.g. `"gcc (Debian 12.2.0-14) 12.2.0"`.
    pub compiler: String,
    /// Host name, if the owner chose to publish it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}
