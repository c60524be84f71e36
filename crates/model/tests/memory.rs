//! Peak memory of decoding a large bundle, measured with a counting global allocator.
//!
//! The target (crates/model README): reading a bundle needs at most about 3x its JSON size,
//! counting the compressed input the caller holds. Tests build in debug mode, so the bundle here
//! is about 30 MB rather than the 100 MB of the target; every buffer involved grows linearly
//! with the input, so the ratio carries over. Run with `--nocapture` to see the figures.

// The allocator below is the one place in this crate that needs `unsafe`: implementing
// `GlobalAlloc` is an unsafe trait impl. It only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use pgfarm_model::{
    Bundle, ExpectedOutput, Extension, Machine, OrderedMap, Postgres, RawText, RegressTest, Run,
    RunConfig, RunStatus, Stage, StageKind, StageStatus, TestStatus, Uuid,
};
use time::macros::datetime;

struct CountingAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees hold; the counters do not affect the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged (see the impl's comment).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let new_ptr = unsafe { System.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            // Counted as if the old and the new block coexisted for a moment, which is the worst
            // case of a moving realloc.
            grew(new_size);
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        new_ptr
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs the tests of this binary one at a time: the counters are global, and tests run on
/// parallel threads. Each test holds the guard from its first line.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Peak bytes allocated while `f` runs, above what was allocated when it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = CURRENT.load(Ordering::SeqCst);
    PEAK.store(start, Ordering::SeqCst);
    let value = f();
    (value, PEAK.load(Ordering::SeqCst) - start)
}

/// pg_regress-like output: aligned columns, markup, quotes and tabs (escaped in JSON).
fn psql_output(seed: usize, n_lines: usize) -> String {
    let mut out = String::with_capacity(n_lines * 64);
    out.push_str("SELECT id, label, payload FROM big ORDER BY id;\n  id   |  label   | payload\n-------+----------+---------\n");
    for line in 0..n_lines {
        let id = seed * 1_000_003 + line * 7919;
        out.push_str(&format!(
            " {id:>5} | <b>{:08x}</b> | \"q\"\t{}\n",
            id.wrapping_mul(2_654_435_761),
            id % 977
        ));
    }
    out.push_str(&format!("({n_lines} rows)\n\n"));
    out
}

/// A bundle of about `target_bytes` of JSON: many regression tests with large outputs.
fn big_bundle(target_bytes: usize) -> Bundle {
    let mut bundle = Bundle::new(
        Run {
            id: Uuid::from_u128(42),
            created_at: datetime!(2026-11-22 03:00 UTC),
            finished_at: datetime!(2026-11-22 03:30 UTC),
            status: RunStatus::Failed,
            runner_version: "0.1.0".to_owned(),
        },
        Machine {
            name: "memory-test".to_owned(),
            os: "linux".to_owned(),
            os_version: "Debian GNU/Linux 12 (bookworm)".to_owned(),
            arch: "x86_64".to_owned(),
            compiler: "gcc".to_owned(),
            hostname: None,
        },
        Extension {
            name: "big".to_owned(),
            version: "1.0.0".to_owned(),
            git_ref: None,
            git_commit: None,
            source: None,
            prerequisites: None,
        },
        Postgres {
            version: "17.2".to_owned(),
            major: 17,
            minor: Some(2),
            pg_config: OrderedMap::new(),
            configure_flags: Vec::new(),
        },
        RunConfig::default(),
    );
    let mut json_estimate = 0;
    let mut idx = 0;
    while json_estimate < target_bytes {
        let actual = psql_output(idx, 2_000);
        let expected = if idx % 10 == 0 { psql_output(idx + 1, 2_000) } else { actual.clone() };
        json_estimate += actual.len() * 2 + 200;
        bundle.regress.push(RegressTest {
            name: format!("test_{idx:05}"),
            group: u32::try_from(idx / 20).expect("few groups"),
            status: if idx % 10 == 0 { TestStatus::Failed } else { TestStatus::Ok },
            duration_ms: 12,
            actual: RawText::from(actual),
            expected: vec![ExpectedOutput {
                file_name: format!("test_{idx:05}.out"),
                content: RawText::from(expected),
            }],
            psql_exit_code: Some(0),
            chosen_expected: Some(format!("test_{idx:05}.out")),
            reason: None,
        });
        idx += 1;
    }
    bundle.stages.push(Stage::new(StageKind::Regress, StageStatus::Failed, 1_800_000));
    bundle
}

#[test]
fn decoding_a_large_bundle_peaks_under_three_times_its_json_size() {
    let _serial = serial();
    let bundle = big_bundle(30 << 20);
    let json_len = bundle.to_json_vec().len();
    let gz = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        bundle.write_json(&mut encoder).unwrap();
        encoder.finish().unwrap()
    };
    drop(bundle);

    let (decoded, gzip_peak) =
        peak_during(|| Bundle::from_slice(&gz).expect("the big bundle reads"));
    drop(decoded);
    let json = {
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut json).unwrap();
        json
    };
    let (decoded, json_peak) =
        peak_during(|| Bundle::from_slice(&json).expect("the big bundle reads"));
    drop(decoded);

    let ratio = |bytes: usize| bytes as f64 / json_len as f64;
    let gzip_total = gzip_peak + gz.len();
    let json_total = json_peak + json.len();
    eprintln!(
        "json {json_len} B, gzip {} B; from gzip: peak {gzip_peak} B above the input ({:.2}x), {:.2}x with the input; \
         from plain JSON: peak {json_peak} B above the input ({:.2}x), {:.2}x with the input",
        gz.len(),
        ratio(gzip_peak),
        ratio(gzip_total),
        ratio(json_peak),
        ratio(json_total),
    );
    assert!(json_len > 25 << 20, "the generated bundle is too small to measure: {json_len} bytes");
    assert!(
        ratio(gzip_total) < 3.0,
        "reading gzip peaked at {:.2}x the JSON size",
        ratio(gzip_total)
    );
    assert!(
        ratio(json_total) < 2.5,
        "reading plain JSON peaked at {:.2}x the JSON size",
        ratio(json_total)
    );
}

#[test]
fn forged_size_hint_does_not_reserve_the_cap() {
    let _serial = serial();
    // A valid tiny gzip stream whose trailer claims 4 GiB - 1 bytes of content.
    let mut gz = pgfarm_model::Bundle::to_gzip_vec(&big_bundle(0));
    let len = gz.len();
    gz[len - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let (result, peak) = peak_during(|| pgfarm_model::Bundle::from_slice(&gz));
    assert!(result.is_err(), "the forged trailer fails the gzip length check");
    assert!(peak < 64 * gz.len() + (1 << 20), "reading {} bytes peaked at {peak} bytes", gz.len());
}
