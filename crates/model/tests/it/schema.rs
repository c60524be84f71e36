//! The JSON Schema file docs/bundle.schema.json: generated from the types, kept in the repository.

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
        assert!(stage_status.contains(&format!("\"{value}\"")), "StageStatus schema lacks {value}: {stage_status}");
    }
    let required = schema["required"].as_array().expect("top-level required list");
    for field in ["format_version", "run", "machine", "extension", "postgres", "config", "stages", "regress", "tap", "server_log"] {
        assert!(required.contains(&serde_json::json!(field)), "schema does not require {field}");
    }
}
