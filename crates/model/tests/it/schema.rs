//! The JSON Schema file docs/bundle.schema.json (generated from the types, kept in the
//! repository) and the format description docs/bundle-format.md (its example, its field list).

use pgfarm_model::Bundle;

use crate::{check_golden, repo_root};

fn generated() -> String {
    let schema = schemars::schema_for!(Bundle);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[test]
fn schema_file_is_up_to_date() {
    check_golden(&repo_root().join("docs/bundle.schema.json"), &generated());
}

#[test]
fn schema_lists_every_status_value() {
    let schema: serde_json::Value = serde_json::from_str(&generated()).unwrap();
    let defs = &schema["$defs"];
    let stage_status = defs["StageStatus"].to_string();
    for value in ["ok", "failed", "missing", "skipped"] {
        assert!(
            stage_status.contains(&format!("\"{value}\"")),
            "StageStatus schema lacks {value}: {stage_status}"
        );
    }
    let required = schema["required"].as_array().expect("top-level required list");
    for field in [
        "format_version",
        "run",
        "machine",
        "extension",
        "postgres",
        "config",
        "stages",
        "regress",
        "tap",
        "server_log",
    ] {
        assert!(required.contains(&serde_json::json!(field)), "schema does not require {field}");
    }
}

/// The first ```json block of docs/bundle-format.md.
fn format_doc_example() -> String {
    let doc = std::fs::read_to_string(repo_root().join("docs/bundle-format.md"))
        .expect("docs/bundle-format.md");
    let start = doc.find("```json\n").expect("docs/bundle-format.md has a ```json example")
        + "```json\n".len();
    let len = doc[start..].find("```").expect("the example block is closed");
    doc[start..start + len].to_owned()
}

#[test]
fn format_doc_example_reads_and_validates() {
    let bundle = Bundle::from_slice(format_doc_example().as_bytes())
        .unwrap_or_else(|err| panic!("the example in docs/bundle-format.md is refused: {err}"));
    assert_eq!(bundle.regress[0].chosen().map(|e| e.file_name.as_str()), Some("three.out"));
}

#[test]
fn format_doc_names_every_field_of_the_schema() {
    let doc = std::fs::read_to_string(repo_root().join("docs/bundle-format.md"))
        .expect("docs/bundle-format.md");
    let schema: serde_json::Value = serde_json::from_str(&generated()).unwrap();
    let mut objects = vec![&schema];
    objects.extend(schema["$defs"].as_object().expect("$defs").values());
    for object in objects {
        let Some(properties) = object["properties"].as_object() else { continue };
        for field in properties.keys() {
            assert!(
                doc.contains(&format!("`{field}`")),
                "docs/bundle-format.md does not document the field `{field}`"
            );
        }
    }
}

#[test]
fn null_optional_fields_read_as_absent() {
    let mut value: serde_json::Value = serde_json::from_str(&format_doc_example()).unwrap();
    value["machine"]["hostname"] = serde_json::Value::Null;
    value["stages"][2]["started_at"] = serde_json::Value::Null;
    value["regress"][0]["psql_exit_code"] = serde_json::Value::Null;
    let bundle = Bundle::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(bundle.machine.hostname, None);
    assert_eq!(bundle.stages[2].started_at, None);
    assert_eq!(bundle.regress[0].psql_exit_code, None);
}

#[test]
fn every_sample_conforms_to_the_schema_file() {
    let schema_text = std::fs::read_to_string(repo_root().join("docs/bundle.schema.json"))
        .expect("docs/bundle.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&schema_text).expect("the schema file is JSON");
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|err| panic!("the schema file is not a valid JSON Schema: {err}"));
    for (file_name, bytes) in crate::samples::committed_samples() {
        let bundle = Bundle::from_slice(&bytes).unwrap_or_else(|err| panic!("{file_name}: {err}"));
        let value = serde_json::to_value(&bundle).expect("a bundle converts to a JSON value");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|err| format!("{}: {err}", err.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{file_name} does not conform to docs/bundle.schema.json:\n{}",
            errors.join("\n")
        );
    }
}

#[test]
fn schema_file_rejects_what_the_reader_rejects() {
    let schema_text = std::fs::read_to_string(repo_root().join("docs/bundle.schema.json"))
        .expect("docs/bundle.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let sample =
        std::fs::read(repo_root().join("testdata/bundles/regress-fail.pgfarm.json")).unwrap();
    let good: serde_json::Value = serde_json::from_slice(&sample).unwrap();
    let broken = |edit: fn(&mut serde_json::Value)| {
        let mut value = good.clone();
        edit(&mut value);
        value
    };
    assert!(validator.is_valid(&good));
    assert!(!validator.is_valid(&broken(|v| v["stages"][0]["status"] = "passed".into())));
    assert!(!validator.is_valid(&broken(
        |v| v["server_log"] = serde_json::json!({"encoding": "hex", "data": "00"})
    )));
    assert!(!validator.is_valid(&broken(|v| v["postgres"]["pg_config"]["BINDIR"] = 1.into())));
    assert!(!validator.is_valid(&broken(|v| {
        v.as_object_mut().unwrap().remove("run");
    })));
}
