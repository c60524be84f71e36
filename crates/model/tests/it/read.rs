//! Reading: gzip and plain JSON, the size cap, version checks, and error messages with paths.

use pgfarm_model::{Bundle, BundleError, FORMAT_VERSION, ReadOptions};
use serde_json::{Value, json};

use crate::samples::SAMPLES;

fn sample_value() -> Value {
    serde_json::to_value((SAMPLES[1].1)()).expect("bundle to JSON value")
}

fn read(value: &Value) -> Result<Bundle, BundleError> {
    Bundle::from_slice(&serde_json::to_vec(value).expect("JSON value to bytes"))
}

fn read_err(value: &Value) -> String {
    read(value).expect_err("the bundle should be refused").to_string()
}

#[test]
fn gzip_and_plain_json_give_the_same_bundle() {
    let bundle = (SAMPLES[1].1)();
    assert_eq!(Bundle::from_slice(&bundle.to_gzip_vec()).unwrap(), bundle);
    assert_eq!(Bundle::from_slice(&bundle.to_json_vec()).unwrap(), bundle);
}

#[test]
fn leading_whitespace_before_the_object_is_accepted() {
    let mut bytes = b" \n\t".to_vec();
    bytes.extend((SAMPLES[0].1)().to_json_vec());
    assert!(Bundle::from_slice(&bytes).is_ok());
}

#[test]
fn unknown_enum_value_names_the_field_path() {
    let mut value = sample_value();
    value["stages"][2]["status"] = json!("passed");
    let message = read_err(&value);
    assert!(
        message.starts_with("stages[2].status: unknown variant `passed`, expected one of `ok`, `failed`, `missing`, `skipped`"),
        "{message}"
    );
}

#[test]
fn missing_field_names_its_parent_path() {
    let mut value = sample_value();
    value["regress"][2].as_object_mut().unwrap().remove("actual");
    let message = read_err(&value);
    assert!(message.starts_with("regress[2]: missing field `actual`"), "{message}");
}

#[test]
fn wrong_type_names_the_field_path() {
    let mut value = sample_value();
    value["postgres"]["major"] = json!("fifteen");
    let message = read_err(&value);
    assert!(
        message.starts_with("postgres.major: invalid type: string \"fifteen\", expected u16"),
        "{message}"
    );
}

#[test]
fn bad_timestamp_names_the_field_path() {
    let mut value = sample_value();
    value["run"]["created_at"] = json!("yesterday");
    let message = read_err(&value);
    assert!(message.starts_with("run.created_at: "), "{message}");
}

#[test]
fn unknown_fields_are_ignored_for_forward_compatibility() {
    let mut value = sample_value();
    value["added_in_a_later_runner"] = json!({"anything": [1, 2, 3]});
    value["stages"][0]["cpu_ms"] = json!(12);
    // Compared with the same value read without the additions: serde_json::Value sorts object
    // keys, so the pg_config order differs from the builder's.
    assert_eq!(read(&value).unwrap(), read(&sample_value()).unwrap());
}

#[test]
fn newer_format_version_is_refused_before_anything_else_is_read() {
    let message =
        read_err(&json!({"format_version": FORMAT_VERSION + 1, "stages": "not even a list"}));
    assert_eq!(
        message,
        "bundle format version 4 is not supported: this build of pgfarm reads format versions 1 to 3 \
         (the bundle comes from a newer pgfarm; upgrade to read it)"
    );
}

#[test]
fn format_version_zero_is_refused() {
    let message = read_err(&json!({"format_version": 0}));
    assert_eq!(message, "format_version: expected a positive integer, found 0");
}

#[test]
fn missing_format_version_is_refused() {
    let mut value = sample_value();
    value.as_object_mut().unwrap().remove("format_version");
    assert!(matches!(read(&value), Err(BundleError::MissingFormatVersion { supported: 3 })));
    assert_eq!(
        read_err(&value),
        "bundle has no `format_version` field; this build reads pgfarm bundles of format versions 1 to 3"
    );
}

#[test]
fn non_integer_format_version_is_refused() {
    assert_eq!(
        read_err(&json!({"format_version": "1"})),
        "format_version: expected a positive integer, found \"1\""
    );
    assert_eq!(
        read_err(&json!({"format_version": 1.5})),
        "format_version: expected a positive integer, found 1.5"
    );
}

#[test]
fn non_object_input_is_refused_with_its_first_bytes() {
    let err = Bundle::from_slice(b"\x89PNG\r\n\x1a\n....").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"bundle is not a JSON object: it starts with "\x89PNG\r\n\x1a\n....""#
    );
    assert_eq!(
        Bundle::from_slice(b"[1]").unwrap_err().to_string(),
        r#"bundle is not a JSON object: it starts with "[1]""#
    );
    assert_eq!(
        Bundle::from_slice(b"  ").unwrap_err().to_string(),
        "bundle is not a JSON object: it starts with nothing (it is empty)"
    );
}

#[test]
fn truncated_json_is_refused_with_line_and_column() {
    let json = (SAMPLES[0].1)().to_json_vec();
    let err = Bundle::from_slice(&json[..json.len() / 2]).unwrap_err();
    assert!(matches!(err, BundleError::Json(_)), "{err:?}");
    assert!(err.to_string().starts_with("bundle is not valid JSON: EOF while parsing"), "{err}");
}

#[test]
fn trailing_bytes_after_the_object_are_refused() {
    let mut json = (SAMPLES[0].1)().to_json_vec();
    json.extend_from_slice(b" {}");
    let err = Bundle::from_slice(&json).unwrap_err();
    assert!(err.to_string().contains("trailing characters"), "{err}");
}

#[test]
fn truncated_gzip_is_refused() {
    let gz = (SAMPLES[0].1)().to_gzip_vec();
    let err = Bundle::from_slice(&gz[..gz.len() - 10]).unwrap_err();
    assert!(matches!(err, BundleError::Gzip(_)), "{err:?}");
    assert!(err.to_string().starts_with("bundle is not valid gzip: "), "{err}");
}

#[test]
fn corrupt_gzip_is_refused() {
    let mut gz = (SAMPLES[0].1)().to_gzip_vec();
    let middle = gz.len() / 2;
    gz[middle..middle + 8].copy_from_slice(b"garbage!");
    assert!(matches!(Bundle::from_slice(&gz), Err(BundleError::Gzip(_))));
}

#[test]
fn gzip_bomb_stops_at_the_decompressed_size_cap() {
    // 64 MiB of spaces compress to about 64 KiB; the trailer's size hint says 64 MiB too.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, b"{").unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..64 {
        std::io::Write::write_all(&mut encoder, &spaces).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    let options = ReadOptions { max_decompressed_bytes: 1 << 20, ..ReadOptions::default() };
    let err = Bundle::from_slice_with(&bomb, &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bundle is larger than the limit of 1048576 bytes (after decompression)"
    );
}

#[test]
fn plain_json_over_the_cap_is_refused() {
    let json = (SAMPLES[0].1)().to_json_vec();
    let options =
        ReadOptions { max_decompressed_bytes: json.len() as u64 - 1, ..ReadOptions::default() };
    assert!(matches!(Bundle::from_slice_with(&json, &options), Err(BundleError::TooLarge { .. })));
    let options =
        ReadOptions { max_decompressed_bytes: json.len() as u64, ..ReadOptions::default() };
    assert!(Bundle::from_slice_with(&json, &options).is_ok());
}

#[test]
fn inconsistent_bundle_is_refused_unless_validation_is_off() {
    let mut value = sample_value();
    value["postgres"]["major"] = json!(16);
    assert_eq!(
        read_err(&value),
        "bundle is inconsistent: postgres.major: is 16 but version \"15.18\" has major 15"
    );
    let bytes = serde_json::to_vec(&value).unwrap();
    let options = ReadOptions { validate: false, ..ReadOptions::default() };
    assert_eq!(Bundle::from_slice_with(&bytes, &options).unwrap().postgres.major, 16);
}

#[test]
fn deeply_nested_unknown_field_is_skipped_without_overflowing_the_stack() {
    let bundle = (SAMPLES[0].1)();
    let json = bundle.to_json_vec();
    let mut nested = br#"{"added_later":"#.to_vec();
    nested.extend(std::iter::repeat_n(b'[', 100_000));
    nested.extend(std::iter::repeat_n(b']', 100_000));
    nested.push(b',');
    nested.extend_from_slice(&json[1..]);
    assert_eq!(Bundle::from_slice(&nested).unwrap(), bundle);
}

#[test]
fn raw_text_in_base64_form_reads_back_exactly() {
    let mut value = sample_value();
    value["server_log"] = json!({"encoding": "base64", "data": "bG9n/w=="});
    let bundle = read(&value).unwrap();
    assert_eq!(bundle.server_log.as_bytes(), b"log\xff");
}

#[test]
fn version_1_bundles_still_read_with_empty_version_2_lists() {
    for name in ["pass.pgfarm.json", "regress-fail.pgfarm.json"] {
        let path = crate::repo_root().join("testdata/bundles/v1").join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let bundle = Bundle::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{} is refused: {e}", path.display()));
        assert_eq!(bundle.format_version, 1, "{name}");
        assert!(bundle.isolation.is_empty() && bundle.perl_tap.is_empty(), "{name}");
        assert!(bundle.regress.iter().all(|t| t.reason.is_none()), "{name}");
        assert!(!bundle.stages.is_empty(), "{name}");
    }
    assert_eq!(FORMAT_VERSION, 3);
}

#[test]
fn version_2_bundles_still_read_without_coverage_build_cache_or_kept() {
    for name in ["pass.pgfarm.json", "regress-fail.pgfarm.json"] {
        let path = crate::repo_root().join("testdata/bundles/v2").join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let bundle = Bundle::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{} is refused: {e}", path.display()));
        assert_eq!(bundle.format_version, 2, "{name}");
        assert!(bundle.coverage.is_none() && bundle.build_cache.is_none(), "{name}");
        assert!(bundle.kept.is_none(), "{name}");
        assert!(!bundle.stages.is_empty() && !bundle.regress.is_empty(), "{name}");
    }
}

#[test]
fn version_3_coverage_reads_back() {
    let mut value = sample_value();
    value["coverage"] = json!({
        "functions": [{"name": "public.add_one(integer)", "calls": 3}, {"name": "public.unused()", "calls": 0}],
        "files": [{"path": "c_func.c", "lines": 10, "lines_covered": 8, "uncovered_lines": [7, 8],
                   "branches": 2, "branches_covered": 1}]
    });
    value["build_cache"] = json!({"key": "ab", "build_reused": true, "install_skipped": false});
    let bundle = read(&value).unwrap();
    let coverage = bundle.coverage.as_ref().unwrap();
    assert_eq!(coverage.functions_covered(), 1);
    assert_eq!(coverage.files[0].uncovered_lines, [7, 8]);
    assert!(bundle.build_cache.as_ref().unwrap().build_reused);
    assert_eq!(Bundle::from_slice(&bundle.to_json_vec()).unwrap(), bundle);
}

#[test]
fn a_pgxn_release_and_its_prerequisites_read_and_bundles_without_them_still_read() {
    let mut value = sample_value();
    value["extension"]["source"] = json!({
        "kind": "pgxn",
        "location": "pgTAP/1.3.3",
        "release": {
            "dist": "pgTAP", "version": "1.3.3", "release_status": "testing",
            "sha1": "5dc0a71019d3127704ae24575de7df539b1762d7",
            "mirror": "https://api.pgxn.org", "url": "https://api.pgxn.org/dist/pgtap/1.3.3/pgtap-1.3.3.zip"
        },
        "prerequisites": [
            {"name": "pg_partman", "range": "4.0.0", "version": "5.1.0", "sha1": "0123456789abcdef0123456789abcdef01234567", "installed": true},
            {"name": "pgTAP", "range": "1.2.0", "version": "1.3.3", "installed": false}
        ]
    });
    let bundle = read(&value).expect("a bundle with a PGXN release");
    let source = bundle.extension.source.as_ref().expect("source");
    let release = source.release.as_ref().expect("release");
    assert_eq!(release.release_status, Some(pgfarm_model::ReleaseStatus::Testing));
    assert_eq!((release.file.as_deref(), release.url.is_some()), (None, true));
    assert_eq!(source.prerequisites.len(), 2);
    assert!(source.prerequisites[0].installed && !source.prerequisites[1].installed);
    assert_eq!(source.prerequisites[1].sha1, None);
    // it writes back the same, and a source without them omits both fields
    assert_eq!(Bundle::from_slice(&bundle.to_json_vec()).unwrap(), bundle);
    value["extension"]["source"] = json!({"kind": "path", "location": "./x"});
    let plain = read(&value).unwrap();
    let text = String::from_utf8(plain.to_json_vec()).unwrap();
    assert!(!text.contains("\"release\"") && !text.contains("\"prerequisites\":["), "{text}");
    // release statuses are closed, like every enum of the format
    value["extension"]["source"] = json!({"kind": "pgxn", "location": "x/1", "release":
        {"dist": "x", "version": "1", "sha1": "00", "release_status": "beta"}});
    let message = read_err(&value);
    assert!(
        message.starts_with("extension.source.release.release_status: unknown variant `beta`"),
        "{message}"
    );
}
