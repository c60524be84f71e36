//! `Postgres`: the PostgreSQL installation a run tested against.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::OrderedMap;

/// The PostgreSQL installation a run tested against (format: docs/bundle-format.md, "postgres").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Postgres {
    /// Full version as `pg_config --version` prints it without the `PostgreSQL ` prefix, e.g.
    /// `"17.2"`, `"18beta1"`, `"19devel"`.
    pub version: String,
    /// Major version, e.g. `17`; equals the leading number of `version`.
    pub major: u16,
    /// Minor version, e.g. `2` for `"17.2"`; absent for pre-releases (`"18beta1"`, `"19devel"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<u16>,
    /// Every line of `pg_config` output, in its order: `BINDIR`, ..., `VERSION`.
    pub pg_config: OrderedMap,
    /// The `configure` options PostgreSQL was built with, one per element, unquoted, e.g.
    /// `["--prefix=/usr", "--with-openssl"]` (from pg_config's `CONFIGURE` line).
    pub configure_flags: Vec<String>,
}

impl Postgres {
    /// Splits a PostgreSQL version into major and minor, or `None` when it does not start with a
    /// major number.
    ///
    /// The major is the leading number. A minor is present when the major is followed by `.` and
    /// a number; pre-release suffixes (`beta1`, `rc1`, `devel`) give no minor. Versions before 10
    /// (`9.6.24`) split as major 9, minor 6: pgfarm does not support them.
    ///
    /// ```
    /// use pgfarm_model::Postgres;
    /// assert_eq!(Postgres::split_version("17.2"), Some((17, Some(2))));
    /// assert_eq!(Postgres::split_version("18beta1"), Some((18, None)));
    /// assert_eq!(Postgres::split_version("PostgreSQL 17.2"), None);
    /// ```
    pub fn split_version(version: &str) -> Option<(u16, Option<u16>)> {
        let (major, rest) = leading_number(version)?;
        let minor = match rest.strip_prefix('.') {
            Some(after_dot) => Some(leading_number(after_dot)?.0),
            None => None,
        };
        Some((major, minor))
    }
}

/// The decimal number at the start of `s` (at most 5 digits, fitting `u16`) and the rest.
fn leading_number(s: &str) -> Option<(u16, &str)> {
    let n_digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if n_digits == 0 {
        return None;
    }
    let number = s[..n_digits].parse().ok()?;
    Some((number, &s[n_digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_version_handles_releases_and_pre_releases() {
        assert_eq!(Postgres::split_version("13.23"), Some((13, Some(23))));
        assert_eq!(Postgres::split_version("19devel"), Some((19, None)));
        assert_eq!(Postgres::split_version("17rc1"), Some((17, None)));
        assert_eq!(Postgres::split_version("9.6.24"), Some((9, Some(6))));
    }

    #[test]
    fn split_version_refuses_non_versions() {
        assert_eq!(Postgres::split_version(""), None);
        assert_eq!(Postgres::split_version("v17"), None);
        assert_eq!(Postgres::split_version("17."), None);
        assert_eq!(Postgres::split_version("99999999.1"), None);
    }
}
