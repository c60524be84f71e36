#!/usr/bin/env python3
"""Writes the test PGXN mirror in this folder: index.json, dist/*.json, dist/NAME/V/META.json and
dist/NAME/V/NAME-V.zip (with real digests), extension/, user/ and stats/ documents, laid out as
PGXN's rsync mirrors are (names and versions lowercased in paths).

    python3 testdata/pgxn-mirror/make.py
"""
import base64, hashlib, json, os, shutil, stat, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
INDEX = {
    "download": "/dist/{dist}/{version}/{dist}-{version}.zip",
    "readme": "/dist/{dist}/{version}/README.txt",
    "meta": "/dist/{dist}/{version}/META.json",
    "dist": "/dist/{dist}.json",
    "extension": "/extension/{extension}.json",
    "user": "/user/{user}.json",
    "tag": "/tag/{tag}.json",
    "stats": "/stats/{stats}.json",
    "mirrors": "/meta/mirrors.json",
    "spec": "/meta/spec.{format}",
}
# (name as written, version, status, date, extra META keys, v2?)
RELEASES = [
    ("pair", "0.1.6", "stable", "2020-10-25T21:54:02Z", {}, False),
    ("pair", "0.1.7", "stable", "2021-02-03T04:05:06Z", {
        "prereqs": {"runtime": {"requires": {"PostgreSQL": ">= 14.0.0, < 18.0.0"}},
                    "test": {"requires": {"pgTAP": "1.0.0", "PostgreSQL": "14.0.0"}}}}, False),
    ("pgTAP", "1.3.3", "stable", "2024-03-01T10:00:00Z", {
        "prereqs": {"runtime": {"requires": {"plpgsql": 0, "PostgreSQL": "9.1.0"}}}}, False),
    ("betaonly", "0.2.0-beta1", "testing", "2025-01-01T00:00:00Z", {}, False),
    ("alphaonly", "0.0.1-alpha1", "unstable", "2025-02-01T00:00:00Z", {}, False),
    ("badsum", "1.0.0", "stable", "2025-03-01T00:00:00Z", {}, False),
    ("preloaded", "2.0.0", "stable", "2025-04-01T00:00:00Z", {}, True),
]

def files_of(name, version):
    low = name.lower()
    return {
        "META.json": None,  # written from the META
        "Makefile": f"EXTENSION = {low}\nDATA = sql/{low}.sql\nPG_CONFIG ?= pg_config\n"
                    "PGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n",
        f"{low}.control": f"default_version = '{version}'\nrelocatable = true\n",
        f"sql/{low}.sql": f"-- {name} {version}\nSELECT 1;\n",
        "bin/run": ("#!/bin/sh\necho run\n", 0o755),       # exec bit from the zip's unix mode
        "test/setup.sh": ("#!/bin/sh\necho setup\n", 0o644),  # exec bit from its #! line
    }

def v1_meta(name, version, status, extra):
    low = name.lower()
    meta = {"name": name, "version": version, "abstract": f"The {name} test distribution",
            "maintainer": "Theory <theory@example.com>", "license": "postgresql",
            "provides": {low: {"file": f"sql/{low}.sql", "version": version}}, **extra}
    if status != "stable":
        meta["release_status"] = status
    return meta

def v2_meta(name, version):
    return {"name": name, "version": version, "abstract": "A v2 distribution with a preloaded module",
            "maintainers": [{"name": "Theory", "email": "theory@example.com"}], "license": "PostgreSQL",
            "contents": {"extensions": {name: {"control": f"{name}.control", "sql": f"sql/{name}.sql"}},
                         "modules": {name: {"type": "extension", "lib": f"src/{name}", "preload": "server"},
                                     "hook_me": {"type": "hook", "lib": "src/hook_me", "preload": "session"}}},
            "dependencies": {"postgres": {"version": "15"}, "pipeline": "pgxs",
                             "packages": {"test": {"requires": {"pkg:pgxn/pgtap": "1.0.0"}},
                                          "run": {"requires": {"pkg:postgres/hstore": 0}}}},
            "meta-spec": {"version": "2.0.0"}}

def write_zip(path, top, files, meta_text):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, content in files.items():
            mode = 0o644
            if content is None:
                content = meta_text
            elif isinstance(content, tuple):
                content, mode = content
            info = zipfile.ZipInfo(f"{top}/{rel}", date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)

def main():
    for sub in ("dist", "extension", "user", "stats"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    dump = lambda rel, doc: (os.makedirs(os.path.dirname(os.path.join(HERE, rel)), exist_ok=True),
                             open(os.path.join(HERE, rel), "w").write(json.dumps(doc, indent=2) + "\n"))
    dump("index.json", INDEX)
    dists, user_releases, recent = {}, {}, []
    for name, version, status, date, extra, v2 in RELEASES:
        low, top = name.lower(), f"{name}-{version}".lower()
        folder = f"dist/{low}/{version.lower()}"
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        author_meta = v2_meta(name, version) if v2 else v1_meta(name, version, status, extra)
        zip_path = os.path.join(HERE, folder, f"{top}.zip")
        write_zip(zip_path, top, files_of(name, version), json.dumps(author_meta, indent=2))
        data = open(zip_path, "rb").read()
        sha1 = hashlib.sha1(data).hexdigest()
        if v2:
            payload = {"user": "theory", "date": date, "uri": f"{folder}/{top}.zip",
                       "digests": {"sha256": hashlib.sha256(data).hexdigest(),
                                   "sha512": hashlib.sha512(data).hexdigest()}}
            b64 = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
            mirror_meta = dict(author_meta, certs={"pgxn": {"payload": b64, "signature": "x" * 43}})
        else:
            # PGXN's additions to a v1 META; meta-spec removed. badsum's sha1 is deliberately wrong.
            mirror_meta = dict(author_meta, release_status=status, user="theory", date=date,
                               sha1=("0" * 40 if name == "badsum" else sha1))
        dump(f"{folder}/META.json", mirror_meta)
        d = dists.setdefault(low, {"name": name, "releases": {}})
        d["releases"].setdefault(status, []).insert(0, {"version": version, "date": date})
        user_releases.setdefault(name, {}).setdefault(status, []).insert(0, {"version": version, "date": date})
        recent.insert(0, {"dist": name, "version": version, "abstract": author_meta["abstract"],
                          "date": date, "user": "theory", "user_name": "Theory"})
        ext = {"extension": low, "latest": status, status: {"dist": name, "version": version, "sha1": sha1},
               "versions": {version: [{"dist": name, "version": version, "status": status}]}}
        dump(f"extension/{low}.json", ext)
    for low, d in dists.items():
        dump(f"dist/{low}.json", d)
    dump("user/theory.json", {"nickname": "theory", "name": "Theory", "email": "theory@example.com",
                              "uri": "https://example.com/", "releases": user_releases})
    dump("stats/dist.json", {"count": len(dists), "releases": len(RELEASES), "recent": recent})

main()
