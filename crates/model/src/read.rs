//! Reading a bundle: gzip detection, size cap, version check, then decoding with field paths.
//!
//! Memory: a gzip bundle is inflated once into one buffer sized from the gzip trailer, then
//! decoded from that buffer (serde_json's slice reader is several times faster than its
//! `io::Read` one). Peak use is about the compressed input + the JSON text + the decoded
//! bundle, i.e. under 3x the JSON size; `tests/memory.rs` measures it.

use std::io::Read as _;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use crate::{Bundle, FORMAT_VERSION, OLDEST_FORMAT_VERSION, ValidationError};

/// The two bytes every gzip stream starts with (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Limits and checks applied by [`Bundle::from_slice_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest JSON text accepted, in bytes: the decompressed size of a gzip bundle, or the size
    /// of a plain JSON one. Guards against zip bombs. Default: [`ReadOptions::DEFAULT_MAX_BYTES`].
    pub max_decompressed_bytes: u64,
    /// Whether to run [`Bundle::validate`] after decoding. Default: `true`. Turn it off only to
    /// look at a broken bundle (an offline viewer showing what it can).
    pub validate: bool,
}

impl ReadOptions {
    /// Default of `max_decompressed_bytes`: 512 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions { max_decompressed_bytes: ReadOptions::DEFAULT_MAX_BYTES, validate: true }
    }
}

/// Why a bundle could not be read; each message names the problem and, where there is one,
/// the field path (`stages[2].status`) or the JSON line and column.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The JSON text is larger than [`ReadOptions::max_decompressed_bytes`].
    #[error("bundle is larger than the limit of {limit} bytes (after decompression)")]
    TooLarge {
        /// The limit that was exceeded.
        limit: u64,
    },
    /// The input starts like gzip but does not inflate (corrupt or truncated).
    #[error("bundle is not valid gzip: {0}")]
    Gzip(std::io::Error),
    /// The text does not start with `{` after optional whitespace: not a bundle at all
    /// (an image, an HTML page, a JSON array).
    #[error("bundle is not a JSON object: it starts with {start}")]
    NotAnObject {
        /// The first bytes, shown escaped.
        start: String,
    },
    /// The text is not valid JSON (truncated file, stray bytes after the object).
    #[error("bundle is not valid JSON: {0}")]
    Json(serde_json::Error),
    /// The object has no `format_version`: it is not a pgfarm bundle.
    #[error(
        "bundle has no `format_version` field; this build reads pgfarm bundles of format versions 1 to {supported}"
    )]
    MissingFormatVersion {
        /// The version this build reads ([`FORMAT_VERSION`]).
        supported: u32,
    },
    /// `format_version` is not a positive integer.
    #[error("format_version: expected a positive integer, found {found}")]
    InvalidFormatVersion {
        /// The JSON value found.
        found: String,
    },
    /// `format_version` is one this build does not read, typically a bundle from a newer pgfarm.
    /// The bundle is refused as a whole, never half-read.
    #[error(
        "bundle format version {found} is not supported: this build of pgfarm reads format versions 1 to {supported}{}",
        if u64::from(*supported) < *found { " (the bundle comes from a newer pgfarm; upgrade to read it)" } else { "" }
    )]
    UnsupportedFormatVersion {
        /// The version in the bundle.
        found: u64,
        /// The version this build reads ([`FORMAT_VERSION`]).
        supported: u32,
    },
    /// A field is missing or has the wrong type or value.
    #[error("{path}: {message}")]
    Field {
        /// Path of the field, e.g. `stages[2].status` (`bundle` for the top-level object).
        path: String,
        /// What is wrong, with the JSON line and column.
        message: String,
    },
    /// The bundle decoded but is inconsistent (see [`Bundle::validate`]).
    #[error("bundle is inconsistent: {0}")]
    Invalid(#[from] ValidationError),
}

/// Just the version, read before anything else; the other fields are skipped unread.
#[derive(Deserialize)]
struct VersionProbe {
    // Unknown fields are skipped by serde_json without allocating.
    format_version: Option<serde_json::Value>,
}

impl Bundle {
    /// Reads a bundle (gzip-compressed or plain JSON) with the default [`ReadOptions`]:
    /// 512 MiB cap, validation on.
    ///
    /// ```
    /// use pgfarm_model::{Bundle, BundleError};
    ///
    /// let err = Bundle::from_slice(br#"{"format_version": 4}"#).unwrap_err();
    /// assert!(matches!(err, BundleError::UnsupportedFormatVersion { found: 4, supported: 3 }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "bundle format version 4 is not supported: this build of pgfarm reads format versions 1 to 3 \
    ///      (the bundle comes from a newer pgfarm; upgrade to read it)"
    /// );
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<Bundle, BundleError> {
        Bundle::from_slice_with(bytes, &ReadOptions::default())
    }

    /// Reads a bundle with explicit [`ReadOptions`].
    ///
    /// Steps: detect gzip by its magic bytes and inflate (at most `max_decompressed_bytes`);
    /// check `format_version` before reading anything else; decode, reporting the field path of
    /// the first error; validate (unless turned off).
    pub fn from_slice_with(bytes: &[u8], options: &ReadOptions) -> Result<Bundle, BundleError> {
        let inflated;
        let json: &[u8] = if bytes.starts_with(&GZIP_MAGIC) {
            inflated = gunzip(bytes, options.max_decompressed_bytes)?;
            &inflated
        } else {
            if bytes.len() as u64 > options.max_decompressed_bytes {
                return Err(BundleError::TooLarge { limit: options.max_decompressed_bytes });
            }
            bytes
        };
        check_version(json)?;
        let bundle = decode(json)?;
        if options.validate {
            bundle.validate()?;
        }
        Ok(bundle)
    }
}

/// The path shown for an error in the top-level object itself.
const TOP_LEVEL: &str = "bundle";

/// Decodes a JSON text whose version was checked.
///
/// Tracking the field path costs about a third of the decoding time (benches/read.rs), and
/// errors are rare: decode without it first, and again with it only to explain an error.
fn decode(json: &[u8]) -> Result<Bundle, BundleError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let fast = Bundle::deserialize(&mut deserializer)
        .and_then(|bundle| deserializer.end().map(|()| bundle));
    let fast_err = match fast {
        Ok(bundle) => return Ok(bundle),
        Err(err) => err,
    };
    if fast_err.is_syntax() || fast_err.is_eof() {
        return Err(BundleError::Json(fast_err));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    match serde_path_to_error::deserialize::<_, Bundle>(&mut deserializer) {
        Err(err) => {
            let path = err.path().to_string();
            let path = if path == "." { TOP_LEVEL.to_owned() } else { path };
            Err(BundleError::Field { path, message: err.inner().to_string() })
        }
        // Unreachable in practice (the same input failed above); report the first error as is.
        Ok(_) => {
            Err(BundleError::Field { path: TOP_LEVEL.to_owned(), message: fast_err.to_string() })
        }
    }
}

/// Largest expansion deflate can achieve (a 258-byte match per 2 bits, rounded up).
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Inflates a gzip stream (all members) into one buffer of at most `max_bytes`.
fn gunzip(bytes: &[u8], max_bytes: u64) -> Result<Vec<u8>, BundleError> {
    // The trailer's ISIZE (size mod 2^32 of the last member) is only a hint; an honest one
    // avoids the buffer doubling (and the copies) while it grows.
    let size_hint = match bytes.len().checked_sub(4).map(|start| &bytes[start..]) {
        Some(&[a, b, c, d]) => u64::from(u32::from_le_bytes([a, b, c, d])),
        _ => 0,
    };
    // A forged hint must not make a tiny input reserve the whole cap: deflate cannot expand
    // more than about 1032:1 (RFC 1951 blocks), so no honest hint exceeds that.
    let plausible = (bytes.len() as u64).saturating_mul(MAX_DEFLATE_RATIO);
    let mut out = Vec::new();
    let reserve = size_hint.min(max_bytes).min(plausible).saturating_add(1);
    out.try_reserve_exact(usize::try_from(reserve).unwrap_or(usize::MAX))
        .map_err(|_| BundleError::TooLarge { limit: max_bytes })?;
    MultiGzDecoder::new(bytes)
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(BundleError::Gzip)?;
    if out.len() as u64 > max_bytes {
        return Err(BundleError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

/// The version when it is the object's first member, as pgfarm writes it (`{"format_version":1,`),
/// which saves the probe's pass over the whole text. A repeated `format_version` later in the
/// object fails decoding ("duplicate field"), so the first one is the one that counts.
fn leading_version(body: &[u8]) -> Option<u64> {
    let rest = body.strip_prefix(b"{")?.trim_ascii_start();
    let rest = rest.strip_prefix(b"\"format_version\"")?.trim_ascii_start();
    let rest = rest.strip_prefix(b":")?.trim_ascii_start();
    let n_digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let after = rest[n_digits..].trim_ascii_start();
    if n_digits == 0
        || n_digits > 9
        || rest[0] == b'0'
        || !(after.starts_with(b",") || after.starts_with(b"}"))
    {
        return None;
    }
    std::str::from_utf8(&rest[..n_digits]).ok()?.parse().ok()
}

fn check_version(json: &[u8]) -> Result<(), BundleError> {
    // serde would accept a JSON array for a struct; a bundle is always an object.
    let body = json.trim_ascii_start();
    if !body.starts_with(b"{") {
        let start = &body[..body.len().min(16)];
        let start = if start.is_empty() {
            "nothing (it is empty)".to_owned()
        } else {
            format!("\"{}\"", start.escape_ascii())
        };
        return Err(BundleError::NotAnObject { start });
    }
    let readable = u64::from(OLDEST_FORMAT_VERSION)..=u64::from(FORMAT_VERSION);
    if leading_version(body).is_some_and(|v| readable.contains(&v)) {
        return Ok(());
    }
    let probe: VersionProbe = serde_json::from_slice(json).map_err(BundleError::Json)?;
    let value = probe
        .format_version
        .ok_or(BundleError::MissingFormatVersion { supported: FORMAT_VERSION })?;
    let found = match value.as_u64() {
        Some(found) if found > 0 => found,
        _ => return Err(BundleError::InvalidFormatVersion { found: value.to_string() }),
    };
    if !readable.contains(&found) {
        return Err(BundleError::UnsupportedFormatVersion { found, supported: FORMAT_VERSION });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_version_reads_only_a_plain_first_member() {
        assert_eq!(leading_version(br#"{"format_version":1,"run":{}}"#), Some(1));
        assert_eq!(leading_version(b"{ \"format_version\" :\n 12 }"), Some(12));
        assert_eq!(leading_version(br#"{"format_version":01,"#), None);
        assert_eq!(leading_version(br#"{"format_version":1.5,"#), None);
        assert_eq!(leading_version(br#"{"format_version":"1","#), None);
        assert_eq!(leading_version(br#"{"run":{},"format_version":1}"#), None);
        assert_eq!(leading_version(br#"{"format_version":1"#), None);
    }

    #[test]
    fn repeated_format_version_is_refused() {
        let err = Bundle::from_slice(br#"{"format_version":1,"format_version":2}"#).unwrap_err();
        assert_eq!(err.to_string(), "bundle: duplicate field `format_version` at line 1 column 36");
    }
}
