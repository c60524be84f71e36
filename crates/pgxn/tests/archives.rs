//! Hostile archives: each is refused with an error naming the member, and nothing is written
//! outside the target folder (nor left inside it).

use pgfarm_pgxn::{Error, UnpackLimits, Unpacked, unpack};
use std::io::Write;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;

enum M<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

fn make_zip(dir: &Path, members: &[M<'_>]) -> PathBuf {
    let path = dir.join("archive.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for m in members {
        match m {
            M::File(name, body) => {
                z.start_file(*name, opts).unwrap();
                z.write_all(body).unwrap();
            }
            M::Dir(name) => z.add_directory(*name, opts).unwrap(),
            M::Link(name, target) => z.add_symlink(*name, *target, opts).unwrap(),
        }
    }
    z.finish().unwrap();
    path
}

/// A sandbox: `box/` holds only `target/`; the archive lives beside `box/`.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("box/target")).unwrap();
        Sandbox { dir }
    }
    fn target(&self) -> PathBuf {
        self.dir.path().join("box/target")
    }
    fn unpack(&self, members: &[M<'_>], limits: &UnpackLimits) -> Result<Unpacked, Error> {
        let zip = make_zip(self.dir.path(), members);
        unpack(&zip, &self.target(), Some("x-1.0.0"), limits)
    }
    /// Everything under the sandbox but the archive and the (empty) target.
    fn written(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out.retain(|p| {
            let rel = p.strip_prefix(self.dir.path()).unwrap();
            !(rel == Path::new("archive.zip")
                || rel == Path::new("box")
                || rel == Path::new("box/target"))
        });
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.symlink_metadata().unwrap().is_dir() {
            walk(&p, out);
        }
        out.push(p);
    }
}

#[track_caller]
fn refused(members: &[M<'_>], member: &str, reason: &str) {
    refused_with(members, &UnpackLimits::default(), member, reason);
}

#[track_caller]
fn refused_with(members: &[M<'_>], limits: &UnpackLimits, member: &str, reason: &str) {
    let sandbox = Sandbox::new();
    let err = sandbox.unpack(members, limits).expect_err("unpacked a hostile archive");
    let text = err.to_string();
    match &err {
        Error::Member { member: m, .. } => assert_eq!(m, member, "{text}"),
        Error::ArchiveLimit { .. } => assert_eq!(member, "", "{text}"),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(text.contains(reason), "{text:?} does not say {reason:?}");
    assert!(text.contains("archive.zip"), "{text}");
    assert_eq!(sandbox.written(), Vec::<PathBuf>::new(), "written for {text}");
}

const OK: M<'static> = M::File("x-1.0.0/META.json", b"{}");

#[test]
fn dot_dot_paths() {
    refused(
        &[OK, M::File("x-1.0.0/../../escape.txt", b"x")],
        "x-1.0.0/../../escape.txt",
        "`..` component",
    );
    refused(
        &[OK, M::File("x-1.0.0/sql/../../../../escape", b"x")],
        "x-1.0.0/sql/../../../../escape",
        "escape",
    );
}

#[test]
fn absolute_paths() {
    let sandbox = Sandbox::new();
    let abs = format!("{}/abs.txt", sandbox.dir.path().display());
    refused(&[OK, M::File(&abs, b"x")], &abs, "absolute path");
    refused(&[OK, M::File("C:/windows.txt", b"x")], "C:/windows.txt", "absolute path");
    refused(&[OK, M::File("x-1.0.0\\..\\..\\evil", b"x")], "x-1.0.0\\..\\..\\evil", "backslash");
}

#[test]
fn symlinks_pointing_out() {
    refused(&[OK, M::Link("x-1.0.0/etc", "/etc")], "x-1.0.0/etc", "absolute path \"/etc\"");
    refused(&[OK, M::Link("x-1.0.0/up", "../../..")], "x-1.0.0/up", "outside the top folder");
    // lexically inside, but `a/up` is itself a link to `..`: only the on-disk check sees it
    refused(
        &[
            OK,
            M::Dir("x-1.0.0/a/"),
            M::Link("x-1.0.0/a/up", ".."),
            M::Link("x-1.0.0/esc", "a/up/.."),
        ],
        "x-1.0.0/esc",
        "does not resolve to a file inside the top folder",
    );
    // a file written through a link
    refused(
        &[OK, M::Link("x-1.0.0/l", "sql"), M::File("x-1.0.0/l/f.sql", b"x")],
        "x-1.0.0/l/f.sql",
        "needs l/ to be a folder",
    );
    refused(&[OK, M::Link("x-1.0.0/dangling", "nothing")], "x-1.0.0/dangling", "does not resolve");
}

#[test]
fn symlinks_inside_are_kept() {
    let sandbox = Sandbox::new();
    let got = sandbox
        .unpack(
            &[
                OK,
                M::File("x-1.0.0/Makefile", b"all:\n"),
                M::Link("x-1.0.0/sql/mk", "../Makefile"),
                M::Link("x-1.0.0/README", "META.json"),
            ],
            &UnpackLimits::default(),
        )
        .unwrap();
    assert_eq!((got.files, got.symlinks), (2, 2));
    assert_eq!(std::fs::read_link(got.root.join("sql/mk")).unwrap(), Path::new("../Makefile"));
    assert_eq!(std::fs::read(got.root.join("sql/mk")).unwrap(), b"all:\n");
}

#[test]
fn zip_bomb() {
    let zeros = vec![0u8; 16 << 20];
    refused(&[OK, M::File("x-1.0.0/bomb", &zeros)], "x-1.0.0/bomb", "compression ratio over 200:1");
    // the total cap counts bytes as they are written
    let limits = UnpackLimits { max_total_bytes: 1000, ..UnpackLimits::default() };
    refused_with(
        &[OK, M::File("x-1.0.0/big", &[7u8; 5000])],
        &limits,
        "x-1.0.0/big",
        "more than 1000 bytes",
    );
}

#[test]
fn a_hundred_thousand_tiny_files() {
    let sandbox = Sandbox::new();
    let path = sandbox.dir.path().join("archive.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..100_000 {
        z.start_file(format!("x-1.0.0/f/{i}"), opts).unwrap();
        z.write_all(b"x").unwrap();
    }
    z.finish().unwrap();
    let err =
        unpack(&path, &sandbox.target(), Some("x-1.0.0"), &UnpackLimits::default()).unwrap_err();
    assert!(matches!(err, Error::ArchiveLimit { .. }), "{err:?}");
    assert!(err.to_string().contains("100000 members, more than the limit of 20000"), "{err}");
    assert_eq!(sandbox.written(), Vec::<PathBuf>::new());
}

#[test]
fn a_file_where_a_folder_must_be() {
    refused(
        &[OK, M::File("x-1.0.0/sql", b"x"), M::File("x-1.0.0/sql/a.sql", b"x")],
        "x-1.0.0/sql/a.sql",
        "needs sql/ to be a folder",
    );
    refused(
        &[OK, M::File("x-1.0.0/sql/a.sql", b"x"), M::File("x-1.0.0/sql", b"x")],
        "x-1.0.0/sql",
        "a file where a folder must be",
    );
    refused(&[M::File("x-1.0.0", b"x")], "x-1.0.0", "a file where the top folder must be");
}

#[test]
fn duplicate_members_write_one_file() {
    // zip writers refuse duplicates: write another name of the same length and patch it
    let sandbox = Sandbox::new();
    let path = make_zip(sandbox.dir.path(), &[OK, M::File("x-1.0.0/META.jsoX", b"again")]);
    let bytes = std::fs::read(&path).unwrap();
    let mut fixed = bytes.clone();
    let needle = b"META.jsoX";
    for i in 0..bytes.len() - needle.len() {
        if &bytes[i..i + needle.len()] == needle {
            fixed[i + needle.len() - 1] = b'n';
        }
    }
    assert_ne!(fixed, bytes);
    std::fs::write(&path, fixed).unwrap();
    // The zip crate keeps one entry per name (the last): one file is written, and only inside.
    let got = unpack(&path, &sandbox.target(), Some("x-1.0.0"), &UnpackLimits::default()).unwrap();
    assert_eq!((got.files, got.bytes), (1, 5));
    assert_eq!(std::fs::read(got.root.join("META.json")).unwrap(), b"again");
    assert_eq!(sandbox.written(), [got.root.join("META.json"), got.root.clone()]);
}

#[test]
fn one_top_folder() {
    refused(
        &[OK, M::File("other-1.0.0/x", b"x")],
        "other-1.0.0/x",
        "outside the archive's top folder x-1.0.0/",
    );
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.target().join("x-1.0.0")).unwrap();
    let err = sandbox.unpack(&[OK], &UnpackLimits::default()).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    // without an expected name the one shared folder is the top
    let sandbox = Sandbox::new();
    let zip = make_zip(sandbox.dir.path(), &[M::File("y-2/a", b"a"), M::File("y-2/b/c", b"c")]);
    let got = unpack(&zip, &sandbox.target(), None, &UnpackLimits::default()).unwrap();
    assert_eq!((got.root.file_name().unwrap().to_str(), got.files, got.bytes), (Some("y-2"), 2, 2));
}

#[test]
fn not_a_zip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.zip");
    std::fs::write(&path, b"PK but not really").unwrap();
    let err = unpack(&path, &dir.path().join("t"), None, &UnpackLimits::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("x.zip: not a readable zip archive"), "{err}");
}
