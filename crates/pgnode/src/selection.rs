//! Choosing installations: the one parser of `--pg` (`13,16..18`, `15@debian`, a path) and
//! `--pg-config PATH`, and the one rule that turns them into a list of [`Installation`]s,
//! shared by every pgfarm command.
//!
//! ```
//! use pgfarm_pgnode::Selection;
//!
//! let selection: Selection = "13,16..18,15@debian".parse()?;
//! assert_eq!(selection.to_string(), "13,16,17,18,15@debian");
//! # Ok::<(), pgfarm_pgnode::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::installation::{Installation, Origin, searched_text};

/// One item of a selection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The first installation found of this major (`17`).
    Major(u32),
    /// The installation of this major from this origin (`15@debian`).
    Named {
        /// Major version.
        major: u32,
        /// Where it comes from.
        origin: Origin,
    },
    /// The installation a `pg_config`, its bin dir or its tree dir belongs to (an item with a
    /// `/`, or `--pg-config PATH`).
    Path(PathBuf),
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wanted::Major(major) => write!(f, "{major}"),
            Wanted::Named { major, origin } => write!(f, "{major}@{origin}"),
            Wanted::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What a user asked for with `--pg` and `--pg-config`: majors, ranges, names and paths, in
/// the order given. [`Selection::default`] (nothing asked) means "every installation found, one
/// per major".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    items: Vec<Wanted>,
}

fn parse_major(text: &str, whole: &str) -> Result<u32> {
    text.trim().parse::<u32>().map_err(|_| Error::BadSelection {
        text: whole.to_owned(),
        reason: format!("`{}` is not a major version", text.trim()),
    })
}

impl FromStr for Selection {
    type Err = Error;

    /// Parses a comma-separated list of majors (`17`), inclusive ranges (`16..18`), names
    /// (`15@debian`) and paths (anything with a `/`: a `pg_config`, a bin dir or a tree).
    fn from_str(text: &str) -> Result<Selection> {
        let mut items = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.contains('/') {
                items.push(Wanted::Path(PathBuf::from(part)));
            } else if let Some((major, origin)) = part.split_once('@') {
                let major = parse_major(major, part)?;
                let origin =
                    Origin::from_name(origin.trim()).ok_or_else(|| Error::BadSelection {
                        text: part.to_owned(),
                        reason: format!(
                            "unknown origin `{}` (known: {})",
                            origin.trim(),
                            Origin::ALL.map(Origin::as_str).join(", ")
                        ),
                    })?;
                items.push(Wanted::Named { major, origin });
            } else if let Some((first, last)) = part.split_once("..") {
                let (first, last) = (parse_major(first, part)?, parse_major(last, part)?);
                if first > last {
                    return Err(Error::BadSelection {
                        text: part.to_owned(),
                        reason: "empty range".to_owned(),
                    });
                }
                items.extend((first..=last).map(Wanted::Major));
            } else {
                items.push(Wanted::Major(parse_major(part, part)?));
            }
        }
        if items.is_empty() {
            return Err(Error::BadSelection {
                text: text.to_owned(),
                reason: "no installation named".to_owned(),
            });
        }
        Ok(Selection { items })
    }
}

impl std::fmt::Display for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.items.iter().map(Wanted::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl Selection {
    /// A selection from the two flags every command shares: `--pg TEXT` and `--pg-config
    /// PATH` (either may be absent; both absent is the default selection).
    pub fn from_flags(pg: Option<&str>, pg_config: Option<&Path>) -> Result<Selection> {
        let mut selection = match pg {
            Some(text) => text.parse()?,
            None => Selection::default(),
        };
        if let Some(path) = pg_config {
            selection.items.push(Wanted::Path(path.to_path_buf()));
        }
        Ok(selection)
    }

    /// True when nothing was asked for.
    pub fn is_default(&self) -> bool {
        self.items.is_empty()
    }

    /// The items, in the order given.
    pub fn items(&self) -> &[Wanted] {
        &self.items
    }

    /// The installations selected among `found` (in [`Installation::discover`]'s order):
    /// for the default selection every installation whose major `allow` accepts, the first
    /// found of each major; otherwise one installation per item, in the items' order, each
    /// installation once. An item nothing matches is an error naming it and the places
    /// searched.
    pub fn select(
        &self,
        found: &[Installation],
        allow: impl Fn(u32) -> bool,
    ) -> Result<Vec<Installation>> {
        let mut chosen: Vec<Installation> = Vec::new();
        if self.is_default() {
            for installation in found {
                let major = installation.major();
                if allow(major) && !chosen.iter().any(|c| c.major() == major) {
                    chosen.push(installation.clone());
                }
            }
            return Ok(chosen);
        }
        let mut missing = Vec::new();
        for item in &self.items {
            let hit = match item {
                Wanted::Major(major) => found.iter().find(|i| i.major() == *major).cloned(),
                Wanted::Named { major, origin } => {
                    found.iter().find(|i| i.major() == *major && i.origin() == *origin).cloned()
                }
                Wanted::Path(path) => Some(from_path(path)?),
            };
            match hit {
                Some(installation) => {
                    if !chosen.iter().any(|c| same_tree(c, &installation)) {
                        chosen.push(installation);
                    }
                }
                None => missing.push(match item {
                    Wanted::Major(major) => format!("major {major}"),
                    other => other.to_string(),
                }),
            }
        }
        if !missing.is_empty() {
            return Err(Error::InstallationNotFound {
                wanted: missing.join(", "),
                searched: searched_text(),
            });
        }
        Ok(chosen)
    }

    /// [`Selection::select`] over [`Installation::discover`], with every major allowed; an
    /// empty result (nothing installed) is an error.
    pub fn resolve(&self) -> Result<Vec<Installation>> {
        let chosen = self.select(&Installation::discover(), |_| true)?;
        if chosen.is_empty() {
            return Err(Error::InstallationNotFound {
                wanted: "any major".to_owned(),
                searched: searched_text(),
            });
        }
        Ok(chosen)
    }

    /// The one installation this selection names (the newest found for the default one); an
    /// error when it names more than one.
    pub fn resolve_one(&self) -> Result<Installation> {
        if self.is_default() {
            return Installation::newest();
        }
        let mut chosen = self.resolve()?;
        if chosen.len() > 1 {
            return Err(Error::BadSelection {
                text: self.to_string(),
                reason: format!("this command takes one installation, {} were named", chosen.len()),
            });
        }
        Ok(chosen.remove(0))
    }
}

/// The installation of a `pg_config` file, a bin dir holding one, or a tree holding `bin/`.
fn from_path(path: &Path) -> Result<Installation> {
    if path.is_dir() {
        if path.join("pg_config").is_file() {
            return Installation::from_bindir(path);
        }
        return Installation::from_pg_config(path.join("bin/pg_config"));
    }
    Installation::from_pg_config(path)
}

fn same_tree(a: &Installation, b: &Installation) -> bool {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    real(&a.bindir) == real(&b.bindir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::installation::Version;

    fn parse(text: &str) -> std::result::Result<Vec<Wanted>, String> {
        text.parse::<Selection>().map(|s| s.items).map_err(|e| e.to_string())
    }

    #[test]
    fn majors_ranges_names_and_paths_parse() {
        use Wanted::*;
        assert_eq!(parse("13,16..18").unwrap(), [Major(13), Major(16), Major(17), Major(18)]);
        assert_eq!(parse(" 17 ").unwrap(), [Major(17)]);
        assert_eq!(
            parse("15@debian,17@pgfarm").unwrap(),
            [
                Named { major: 15, origin: Origin::Debian },
                Named { major: 17, origin: Origin::Pgfarm }
            ]
        );
        assert_eq!(
            parse("/opt/pg/bin/pg_config,14").unwrap(),
            [Path(PathBuf::from("/opt/pg/bin/pg_config")), Major(14)]
        );
    }

    #[test]
    fn bad_selections_name_the_part_and_the_problem() {
        assert_eq!(parse("18..16").unwrap_err(), "--pg: empty range in `18..16`");
        assert_eq!(parse("x").unwrap_err(), "--pg: `x` is not a major version in `x`");
        assert_eq!(parse("13,1x..3").unwrap_err(), "--pg: `1x` is not a major version in `1x..3`");
        assert!(
            parse("15@nowhere").unwrap_err().contains("unknown origin `nowhere` (known: pgfarm,")
        );
        assert_eq!(parse(" , ").unwrap_err(), "--pg: no installation named in ` , `");
    }

    fn fake(major: u32, root: &str) -> Installation {
        let version = Version::parse(&format!("{major}.1")).unwrap();
        let root = PathBuf::from(root);
        Installation {
            version: version.clone(),
            pg_config_version: version,
            pg_config: root.join("bin/pg_config"),
            bindir: root.join("bin"),
            sharedir: root.join("share"),
            pkglibdir: root.join("lib"),
            libdir: root.join("lib"),
            includedir_server: root.join("include/server"),
            pgxs: root.join("lib/pgxs/src/makefiles/pgxs.mk"),
        }
    }

    fn roots(list: &[Installation]) -> Vec<String> {
        list.iter().map(|i| i.bindir.display().to_string()).collect()
    }

    #[test]
    fn the_default_takes_the_first_of_each_allowed_major_and_names_pick_an_origin() {
        let found = [
            fake(15, "/nowhere/a/15"),
            fake(15, "/usr/lib/postgresql/15"),
            fake(16, "/nowhere/a/16"),
            fake(17, "/nowhere/a/17"),
        ];
        let all = Selection::default().select(&found, |_| true).unwrap();
        assert_eq!(roots(&all), ["/nowhere/a/15/bin", "/nowhere/a/16/bin", "/nowhere/a/17/bin"]);
        let allowed = Selection::default().select(&found, |m| m < 17).unwrap();
        assert_eq!(roots(&allowed), ["/nowhere/a/15/bin", "/nowhere/a/16/bin"]);

        let named: Selection = "15@debian,17".parse().unwrap();
        let chosen = named.select(&found, |_| false).unwrap();
        assert_eq!(roots(&chosen), ["/usr/lib/postgresql/15/bin", "/nowhere/a/17/bin"]);

        // 15 and 15@path are the same tree here: listed once.
        let twice: Selection = "15,15@path".parse().unwrap();
        assert_eq!(roots(&twice.select(&found, |_| true).unwrap()), ["/nowhere/a/15/bin"]);

        let err = "14,16,13@debian".parse::<Selection>().unwrap().select(&found, |_| true);
        let err = err.unwrap_err().to_string();
        assert!(
            err.starts_with("no PostgreSQL installation found for major 14, 13@debian"),
            "{err}"
        );
    }
}
