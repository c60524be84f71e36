//! A generated PGXN mirror (the documents a real mirror serves: `index.json`, `dist/{dist}.json`,
//! `dist/{dist}/{version}/META.json`, `user/{user}.json`, `stats/dist.json`, and with
//! `userlist` the API server's `users/{letter}.json`), served by `pgfarm_testsupport::http`.
//! Zips are not written (the sync reads documents only; `pgfarm_pgxn::mirror` writes real ones,
//! tests/pgxn.rs uses it where the archive matters); each META's `sha1` is the SHA-1 of the
//! bytes `{dist}-{version}`. Shared by tests/pgxn.rs and benches/pgxn_sync.rs, which need
//! thousands of releases written in a second.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha1::Digest as _;

/// One release of a generated mirror.
#[derive(Debug, Clone)]
pub struct Release {
    pub dist: String,
    pub version: String,
    pub status: &'static str,
    pub date: String,
    pub user: String,
    /// `prereqs.runtime.requires.PostgreSQL`, if any.
    pub postgres: Option<String>,
}

/// A mirror folder written from a list of releases.
pub struct Mirror {
    pub root: PathBuf,
    pub releases: Vec<Release>,
    /// Write the API server's `userlist` template and `users/{letter}.json`.
    pub userlist: bool,
}

impl Mirror {
    pub fn new(root: &Path) -> Mirror {
        Mirror { root: root.to_owned(), releases: Vec::new(), userlist: false }
    }

    pub fn add(
        &mut self,
        dist: &str,
        version: &str,
        status: &'static str,
        date: &str,
        user: &str,
        postgres: Option<&str>,
    ) -> &mut Mirror {
        self.releases.push(Release {
            dist: dist.into(),
            version: version.into(),
            status,
            date: date.into(),
            user: user.into(),
            postgres: postgres.map(str::to_owned),
        });
        self
    }

    pub fn sha1(dist: &str, version: &str) -> String {
        hex::encode(sha1::Sha1::digest(format!("{dist}-{version}").as_bytes()))
    }

    fn write_json(&self, path: &str, value: &Value) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    }

    /// (Re)writes every document.
    pub fn write(&self) {
        let mut index = json!({
            "download": "/dist/{dist}/{version}/{dist}-{version}.zip",
            "readme": "/dist/{dist}/{version}/README.txt",
            "meta": "/dist/{dist}/{version}/META.json",
            "dist": "/dist/{dist}.json",
            "extension": "/extension/{extension}.json",
            "user": "/user/{user}.json",
            "tag": "/tag/{tag}.json",
            "stats": "/stats/{stats}.json",
            "mirrors": "/meta/mirrors.json",
            "spec": "/meta/spec.{format}"
        });
        if self.userlist {
            index["userlist"] = json!("/users/{letter}.json");
        }
        self.write_json("index.json", &index);
        // dist -> status -> releases, newest first
        let mut by_dist: BTreeMap<String, (String, BTreeMap<&str, Vec<&Release>>)> =
            BTreeMap::new();
        let mut by_user: BTreeMap<String, BTreeMap<String, BTreeMap<&str, Vec<&Release>>>> =
            BTreeMap::new();
        for release in &self.releases {
            let lower = release.dist.to_lowercase();
            by_dist
                .entry(lower)
                .or_insert_with(|| (release.dist.clone(), BTreeMap::new()))
                .1
                .entry(release.status)
                .or_default()
                .push(release);
            by_user
                .entry(release.user.clone())
                .or_default()
                .entry(release.dist.clone())
                .or_default()
                .entry(release.status)
                .or_default()
                .push(release);
            let mut meta = json!({
                "name": release.dist,
                "version": release.version,
                "abstract": format!("The {} distribution", release.dist),
                "maintainer": format!("{} <{}@example.org>", release.user, release.user),
                "license": "postgresql",
                "provides": {release.dist.to_lowercase(): {"file": "sql/x.sql", "version": release.version}},
                "release_status": release.status,
                "user": release.user,
                "date": release.date,
                "sha1": Mirror::sha1(&release.dist, &release.version),
            });
            if let Some(range) = &release.postgres {
                meta["prereqs"] = json!({"runtime": {"requires": {"PostgreSQL": range}}});
            }
            self.write_json(
                &format!(
                    "dist/{}/{}/META.json",
                    release.dist.to_lowercase(),
                    release.version.to_lowercase()
                ),
                &meta,
            );
        }
        let newest_first = |list: &mut Vec<&Release>| list.sort_by(|a, b| b.date.cmp(&a.date));
        let entries = |list: &[&Release]| -> Value {
            list.iter().map(|r| json!({"version": r.version, "date": r.date})).collect()
        };
        for (lower, (name, statuses)) in &mut by_dist {
            let mut releases = serde_json::Map::new();
            for (status, list) in statuses.iter_mut() {
                newest_first(list);
                releases.insert((*status).to_owned(), entries(list));
            }
            self.write_json(
                &format!("dist/{lower}.json"),
                &json!({"name": name, "releases": releases}),
            );
        }
        let mut letters: BTreeMap<char, Vec<Value>> = BTreeMap::new();
        for (user, dists) in &mut by_user {
            let mut releases = serde_json::Map::new();
            for (dist, statuses) in dists.iter_mut() {
                let mut by_status = serde_json::Map::new();
                for (status, list) in statuses.iter_mut() {
                    newest_first(list);
                    by_status.insert((*status).to_owned(), entries(list));
                }
                releases.insert(dist.clone(), Value::Object(by_status));
            }
            self.write_json(
                &format!("user/{user}.json"),
                &json!({"nickname": user, "name": format!("User {user}"), "email": format!("{user}@example.org"),
                        "uri": format!("https://example.org/{user}"), "releases": releases}),
            );
            letters
                .entry(user.chars().next().unwrap())
                .or_default()
                .push(json!({"user": user, "name": format!("User {user}")}));
        }
        if self.userlist {
            for (letter, users) in letters {
                self.write_json(&format!("users/{letter}.json"), &Value::Array(users));
            }
        }
        let mut recent: Vec<&Release> = self.releases.iter().collect();
        recent.sort_by(|a, b| b.date.cmp(&a.date));
        let recent: Vec<Value> = recent
            .iter()
            .take(56)
            .map(|r| {
                json!({"dist": r.dist, "version": r.version, "abstract": format!("The {} distribution", r.dist),
                       "date": r.date, "user": r.user, "user_name": format!("User {}", r.user)})
            })
            .collect();
        self.write_json(
            "stats/dist.json",
            &json!({"count": by_dist.len(), "releases": self.releases.len(), "recent": recent}),
        );
    }
}
