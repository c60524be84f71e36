//! Writing a bundle as JSON or gzip-compressed JSON into any `io::Write` (no file access here).
//!
//! The writers do not validate: call [`Bundle::validate`] first. Writing fails only for a
//! timestamp RFC 3339 cannot hold (a year outside 0000-9999, an offset with seconds), which
//! validation reports. Writing the file atomically
//! (temporary file, then rename) is the caller's job.

use std::io;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::Bundle;

impl Bundle {
    /// Writes compact JSON into `writer`. serde_json writes in small pieces: give it a
    /// buffered writer (a `Vec`, an `io::BufWriter`), not a bare file or socket.
    pub fn write_json<W: io::Write>(&self, writer: W) -> io::Result<()> {
        serde_json::to_writer(writer, self).map_err(io::Error::from)
    }

    /// Writes indented JSON into `writer` (for people and for fixtures; larger than compact).
    pub fn write_json_pretty<W: io::Write>(&self, writer: W) -> io::Result<()> {
        serde_json::to_writer_pretty(writer, self).map_err(io::Error::from)
    }

    /// Writes gzip-compressed compact JSON into `writer`: the bundle file format
    /// (`.pgfarm.json.gz`). The JSON is streamed into the compressor, never held whole.
    pub fn write_gzip<W: io::Write>(&self, writer: W) -> io::Result<W> {
        // serde_json writes in pieces of a few bytes; feeding those to the compressor one by one
        // made writing about 20 times slower (benches/read.rs), so they are gathered first.
        let mut buffered =
            io::BufWriter::with_capacity(64 * 1024, GzEncoder::new(writer, Compression::default()));
        self.write_json(&mut buffered)?;
        buffered.into_inner().map_err(io::IntoInnerError::into_error)?.finish()
    }

    /// The bundle as compact JSON bytes.
    ///
    /// # Panics
    ///
    /// If a timestamp cannot be written as RFC 3339: a UTC offset with seconds, or a year
    /// outside 0000 to 9999. [`Bundle::validate`] reports both, and bundles read by
    /// [`Bundle::from_slice`] never have them; use [`Bundle::write_json`] to get an error instead.
    pub fn to_json_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out)
            .expect("writing into a Vec fails only for timestamps that validate() refuses");
        out
    }

    /// The bundle as a gzip-compressed file's bytes (`.pgfarm.json.gz`).
    ///
    /// # Panics
    ///
    /// As [`Bundle::to_json_vec`]: only for a timestamp RFC 3339 cannot hold, which
    /// [`Bundle::validate`] reports; use [`Bundle::write_gzip`] to get an error instead.
    pub fn to_gzip_vec(&self) -> Vec<u8> {
        self.write_gzip(Vec::new())
            .expect("writing into a Vec fails only for timestamps that validate() refuses")
    }
}
