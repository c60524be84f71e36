//! The PGXN side of a run's install and upgrade stages: prerequisite distributions fetched from
//! the mirror and installed into the tree before the extension (once per tree: a later run finds
//! them there), and the previous PGXN release of the distribution installed for the upgrade
//! check when the tree cannot install an earlier version otherwise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pgfarm_model::PrerequisiteDist;
use pgfarm_pgxn::{Client, Prereq};

use super::{Job, StageOutcome};
use crate::dist::{self, DistError, Fetched, Mirror};
use crate::error::Result;

impl Job<'_> {
    /// The tree's `share/extension` folder.
    pub(super) fn extension_dir(&self) -> PathBuf {
        self.installation.sharedir.join("extension")
    }

    /// The `default_version` of extension `name` installed in the tree, if any (the control
    /// file's name as written or lowercased).
    pub(super) fn tree_version(&self, name: &str) -> Option<String> {
        let dir = self.extension_dir();
        [name.to_owned(), name.to_lowercase()].iter().find_map(|n| {
            let text = std::fs::read_to_string(dir.join(format!("{n}.control"))).ok()?;
            crate::extension::parse_control(n, &text).default_version
        })
    }

    fn client(&mut self, mirror: &Mirror) -> std::result::Result<Client, DistError> {
        if let Some(client) = &self.pgxn_client {
            return Ok(client.clone());
        }
        let client = mirror.client()?;
        self.pgxn_client = Some(client.clone());
        Ok(client)
    }

    /// Builds (`./configure` when present, make) and installs (make install) an unpacked
    /// distribution into this tree; `Some` with the failure.
    fn build_and_install(
        &mut self,
        root: &Path,
        what: &str,
        log: &mut String,
    ) -> Result<Option<String>> {
        let configure = root.join("configure");
        if configure.is_file() {
            let spawn = crate::process::Spawn::new(&configure)
                .current_dir(root)
                .env("PATH", self.make.path_env())
                .env("PG_CONFIG", self.installation.pg_config.display().to_string());
            if let Some(failed) = self.run_logged(&spawn, &format!("{what}: ./configure"), log)? {
                return Ok(Some(outcome_text(failed)));
            }
        }
        if let Some(user) = self.options.sandbox.as_ref().and_then(|s| s.user()) {
            // In the sandbox its user builds here.
            super::stages::chown_tree(root, user.uid, user.gid)?;
        }
        let spawn = self.make.command(root, &[]);
        if let Some(failed) = self.run_logged(&spawn, &format!("{what}: make"), log)? {
            return Ok(Some(outcome_text(failed)));
        }
        Ok(self.make_install(root, &format!("{what}: make install"), log)?.map(outcome_text))
    }

    /// Install stage, before the extension's own `make install`: every META.json prerequisite
    /// that is a PGXN distribution and that the tree lacks (or has in a version below the
    /// range) is fetched from the run's mirror (the highest release of the accepted statuses
    /// satisfying the range), built and installed; each is recorded for the bundle. A
    /// prerequisite the mirror does not have (a contrib module the tree lacks, ...) is left to
    /// the load stage's dependency check; one that cannot be fetched or built is `Some(Missing)`.
    pub(super) fn install_prerequisites(
        &mut self,
        log: &mut String,
    ) -> Result<Option<StageOutcome>> {
        let own: Vec<String> = self.source.controls.iter().map(|c| c.name.to_lowercase()).collect();
        let wanted: Vec<Prereq> = self
            .source
            .meta_requires
            .iter()
            .filter(|p| p.source == "pgxn" && !own.contains(&p.name.to_lowercase()))
            .cloned()
            .collect();
        for prereq in wanted {
            let found = self.tree_version(&prereq.name);
            if let Some(version) = &found
                && dist::satisfies(version, &prereq.range)
            {
                log.push_str(&format!(
                    "pgfarm: prerequisite {} {} is in the tree ({version})\n",
                    prereq.name, prereq.range
                ));
                self.prerequisites.push(PrerequisiteDist {
                    name: prereq.name.clone(),
                    range: prereq.range.clone(),
                    version: version.clone(),
                    sha1: None,
                    installed: false,
                });
                continue;
            }
            let Some(mirror) = self.source.provenance.mirror.clone() else {
                log.push_str(&format!(
                    "pgfarm: prerequisite {} {} is not in the tree{}; no PGXN mirror to fetch it from (--pgxn-mirror)\n",
                    prereq.name,
                    prereq.range,
                    found.map(|v| format!(" (it has {v})")).unwrap_or_default()
                ));
                continue;
            };
            let missing = |why: String| {
                Ok(Some(StageOutcome::Missing(format!(
                    "prerequisite {} {}: {why}",
                    prereq.name, prereq.range
                ))))
            };
            let client = match self.client(&mirror) {
                Ok(client) => client,
                Err(err) => return missing(err.to_string()),
            };
            let releases = match client.dist(&prereq.name) {
                Ok(releases) => releases,
                Err(pgfarm_pgxn::Error::NotFound { url }) => {
                    log.push_str(&format!(
                        "pgfarm: prerequisite {} is not a distribution on the mirror ({url} not found)\n",
                        prereq.name
                    ));
                    continue;
                }
                Err(err) => return missing(err.to_string()),
            };
            let Some(version) = dist::highest_satisfying(&releases, mirror.accept, &prereq.range)
            else {
                return missing(format!(
                    "no release of {} on {} satisfies it",
                    releases.name,
                    client.base().as_str()
                ));
            };
            let into = self.dir.join("prerequisites");
            let Fetched { root, release } = match dist::fetch_release(
                &client,
                &mirror,
                &releases.name,
                Some(&version),
                &into,
            ) {
                Ok(fetched) => fetched,
                Err(err) => return missing(err.to_string()),
            };
            log.push_str(&format!(
                "pgfarm: prerequisite {} {}: installing {} {} (sha1 {}) from {}\n",
                prereq.name,
                prereq.range,
                release.dist,
                release.version,
                release.sha1,
                client.base().as_str()
            ));
            let what = format!("{} {}", release.dist, release.version);
            if let Some(failed) = self.build_and_install(&root, &what, log)? {
                return missing(failed);
            }
            self.prerequisites.push(PrerequisiteDist {
                name: prereq.name.clone(),
                range: prereq.range.clone(),
                version: release.version.clone(),
                sha1: Some(release.sha1.clone()),
                installed: true,
            });
        }
        Ok(None)
    }

    /// The previous PGXN release of this distribution (the highest of the accepted statuses
    /// below the release under test), installed into the tree for the upgrade check; the files
    /// it added to the tree's extension and library folders are returned so that the caller
    /// removes them after reinstalling the release under test. `Err(reason)` when there is no
    /// mirror, no META name, no earlier release, or it cannot be fetched or built.
    pub(super) fn install_previous_release(
        &mut self,
        log: &mut String,
    ) -> Result<std::result::Result<(String, Snapshot), String>> {
        let Some(mirror) = self.source.provenance.mirror.clone() else {
            return Ok(Err(
                "no PGXN mirror for the previous release (pgxn: sources use one; give --pgxn-mirror for a directory or zip)"
                    .into(),
            ));
        };
        let (dist_name, current) = match (&self.source.provenance.release, &self.source.meta_name) {
            (Some(release), _) => (release.dist.clone(), release.version.clone()),
            (None, Some(name)) => {
                (name.clone(), self.source.meta_version.clone().unwrap_or_default())
            }
            (None, None) => return Ok(Err("no META.json name to look the distribution up".into())),
        };
        let client = match self.client(&mirror) {
            Ok(client) => client,
            Err(err) => return Ok(Err(err.to_string())),
        };
        let releases = match client.dist(&dist_name) {
            Ok(releases) => releases,
            Err(err) => return Ok(Err(err.to_string())),
        };
        let Some(previous) = dist::previous_release(&releases, mirror.accept, &current) else {
            return Ok(Err(format!(
                "{dist_name} has no earlier release than {current} on {}",
                client.base().as_str()
            )));
        };
        let into = self.dir.join("previous");
        let fetched =
            match dist::fetch_release(&client, &mirror, &dist_name, Some(&previous), &into) {
                Ok(fetched) => fetched,
                Err(err) => return Ok(Err(err.to_string())),
            };
        log.push_str(&format!(
            "pgfarm: installing the previous release {} {} (sha1 {}) from {}\n",
            fetched.release.dist,
            fetched.release.version,
            fetched.release.sha1,
            client.base().as_str()
        ));
        let snapshot = Snapshot::take(&[self.extension_dir(), self.installation.pkglibdir.clone()]);
        let what = format!("previous release {previous}");
        if let Some(failed) = self.build_and_install(&fetched.root, &what, log)? {
            return Ok(Err(format!("{what}: {failed}")));
        }
        Ok(Ok((previous, snapshot)))
    }

    /// Installs the release under test again over what the previous release installed.
    pub(super) fn reinstall(&mut self, log: &mut String) -> Result<Option<String>> {
        let src = self.src.clone();
        Ok(self
            .make_install(&src, "make install (again, after the previous release)", log)?
            .map(outcome_text))
    }
}

/// The files in some folders at one moment, to remove what was added after it.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    dirs: Vec<PathBuf>,
    files: BTreeSet<PathBuf>,
}

impl Snapshot {
    fn take(dirs: &[PathBuf]) -> Snapshot {
        let mut files = BTreeSet::new();
        for dir in dirs {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                files.insert(entry.path());
            }
        }
        Snapshot { dirs: dirs.to_vec(), files }
    }

    /// Removes the files added to the folders since the snapshot; says which in `log`.
    pub(super) fn remove_added(&self, log: &mut String) {
        for dir in &self.dirs {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if !self.files.contains(&path) && entry.file_type().is_ok_and(|t| t.is_file()) {
                    match std::fs::remove_file(&path) {
                        Ok(()) => log.push_str(&format!("pgfarm: removed {}\n", path.display())),
                        Err(e) => log.push_str(&format!(
                            "pgfarm: could not remove {}: {e}\n",
                            path.display()
                        )),
                    }
                }
            }
        }
    }
}

fn outcome_text(outcome: StageOutcome) -> String {
    match outcome {
        StageOutcome::Failed(why) | StageOutcome::Missing(why) => why,
        StageOutcome::Skipped(why) => why,
        StageOutcome::Ok | StageOutcome::NotApplicable => String::new(),
    }
}
