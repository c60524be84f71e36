//! The OpenAPI 3.1 document (`/api/v1/openapi.json`): paths, parameters and statuses from the
//! endpoint table (`ops::ENDPOINTS`), built with utoipa; request and response schemas from the
//! `schemars::JsonSchema` derives of the wire types (`pgfarm_model::api` and the few views the
//! server defines), in `components/schemas`.

use schemars::JsonSchema;
use schemars::generate::{Contract, SchemaGenerator, SchemaSettings};
use serde_json::{Value, json};

use super::ops::ENDPOINTS;

/// The content of a request or response body: one schema per media type.
pub(crate) type Body = Vec<(&'static str, Value)>;

/// Describes a body, registering the types it names with the generator.
pub(crate) type BodyFn = fn(&mut SchemaGenerator) -> Body;

/// Where referenced schemas live in the document.
const COMPONENTS: &str = "/components/schemas";

fn generator(contract: Contract) -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = COMPONENTS.into();
    settings.meta_schema = None;
    settings.contract = contract;
    SchemaGenerator::new(settings)
}

/// A JSON body of type `T`.
pub(crate) fn json_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Body {
    vec![("application/json", generator.subschema_for::<T>().to_value())]
}

/// A result bundle file as the runner writes it.
pub(crate) fn bundle_file(_: &mut SchemaGenerator) -> Body {
    let description = "A result bundle exactly as the runner writes it (docs/bundle-format.md)";
    vec![
        (
            "application/gzip",
            json!({"type": "string", "contentMediaType": "application/gzip",
                   "description": format!("{description}: gzip-compressed JSON")}),
        ),
        (
            "application/json",
            json!({"type": "string", "contentMediaType": "application/json",
                   "description": format!("{description}: plain JSON")}),
        ),
    ]
}

/// An Atom feed.
pub(crate) fn atom(_: &mut SchemaGenerator) -> Body {
    vec![(
        "application/atom+xml",
        json!({"type": "string", "description": "Atom 1.0 feed of matrix status changes"}),
    )]
}

/// A badge: SVG for `.svg` paths, shields.io endpoint JSON for `.json` paths.
pub(crate) fn badge(generator: &mut SchemaGenerator) -> Body {
    vec![
        ("image/svg+xml", json!({"type": "string", "description": "flat SVG badge"})),
        (
            "application/json",
            generator.subschema_for::<pgfarm_model::api::ShieldsEndpoint>().to_value(),
        ),
    ]
}

/// Prometheus text exposition.
pub(crate) fn prometheus(_: &mut SchemaGenerator) -> Body {
    vec![("text/plain", json!({"type": "string", "description": "Prometheus text format 0.0.4"}))]
}

/// This document.
pub(crate) fn openapi_json(_: &mut SchemaGenerator) -> Body {
    vec![(
        "application/json",
        json!({"type": "object", "description": "OpenAPI 3.1 document",
               "required": ["openapi", "info", "paths"]}),
    )]
}

/// An admin machine action: the secret (approve, rotate-secret) or the machine.
pub(crate) fn admin_answer(generator: &mut SchemaGenerator) -> Body {
    let secret = generator.subschema_for::<pgfarm_model::api::MachineSecret>().to_value();
    let machine = generator.subschema_for::<pgfarm_model::api::Machine>().to_value();
    vec![("application/json", json!({"anyOf": [secret, machine]}))]
}

/// The JSON schema type of a query parameter, by name.
fn query_schema(name: &str) -> Value {
    match name {
        "days" | "pg" | "limit" => json!({"type": "integer"}),
        "hide_now_green" => json!({"type": "boolean"}),
        "since" | "until" => {
            json!({"type": "string", "description": "RFC 3339 time or YYYY-MM-DD day (UTC)"})
        }
        "after" => json!({"type": "string", "description": "the `next` of the previous page"}),
        "cause" => {
            let names: Vec<&str> =
                crate::verdict::Cause::ALL.iter().map(|cause| cause.wire_name()).collect();
            json!({"type": "string", "enum": names, "description": "a failure cause's wire name"})
        }
        _ => json!({"type": "string"}),
    }
}

/// The OpenAPI document of this API.
pub fn openapi_document() -> Value {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::{
        InfoBuilder, OpenApiBuilder, PathItem, PathsBuilder, ResponseBuilder, ResponsesBuilder,
    };

    let mut paths = PathsBuilder::new();
    for endpoint in ENDPOINTS {
        let mut responses = ResponsesBuilder::new();
        for status in endpoint.statuses.iter().chain(&[500, 503]) {
            let description = match status {
                200 => "OK",
                201 => "Created",
                304 => "Not modified (the If-None-Match ETag still holds)",
                400 => "Malformed request: ErrorBody {code: malformed, message naming the field}",
                401 => {
                    "Unknown machine, bad signature, stale timestamp, or missing admin token: ErrorBody"
                }
                403 => "Machine not approved: ErrorBody",
                404 => "Not found: ErrorBody",
                409 => "Exists already: ErrorBody",
                413 => "Too large: ErrorBody",
                422 => "Inconsistent bundle: ErrorBody",
                429 => "Rate limited (Retry-After): ErrorBody",
                503 => {
                    "Database unavailable or disk full, or the request time limit reached \
                     (Retry-After): ErrorBody"
                }
                _ => "Internal error: ErrorBody",
            };
            responses = responses.response(
                status.to_string(),
                ResponseBuilder::new().description(description).build(),
            );
        }
        let mut operation = OperationBuilder::new()
            .operation_id(Some(endpoint.name))
            .summary(Some(endpoint.summary))
            .responses(responses.build());
        let path_params = endpoint
            .path
            .split('/')
            .filter_map(|segment| Some(segment.split_once('{')?.1.split_once('}')?.0));
        for name in path_params {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(utoipa::openapi::Required::True)
                    .build(),
            );
        }
        for name in endpoint.query {
            operation = operation.parameter(
                ParameterBuilder::new().name(*name).parameter_in(ParameterIn::Query).build(),
            );
        }
        let method = if endpoint.method == "post" { HttpMethod::Post } else { HttpMethod::Get };
        paths = paths.path(endpoint.path, PathItem::new(method, operation.build()));
    }
    let document = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("pgfarm API")
                .version("1")
                .description(Some("The pgfarm server's JSON API; see docs/api.md."))
                .build(),
        )
        .paths(paths.build())
        .build();
    let mut document = serde_json::to_value(&document).unwrap_or_else(|_| json!({}));
    add_schemas(&mut document);
    document
}

/// Adds the bodies of `ENDPOINTS` to the utoipa document: schemas of success answers, the
/// `ErrorBody` of error answers, request bodies, typed query parameters, and the referenced
/// schemas under `components/schemas`.
fn add_schemas(document: &mut Value) {
    let mut responses = generator(Contract::Serialize);
    let mut requests = generator(Contract::Deserialize);
    let error = responses.subschema_for::<pgfarm_model::api::ErrorBody>().to_value();
    let content = |body: Body| -> Value {
        body.into_iter()
            .map(|(media, schema)| (media.to_owned(), json!({"schema": schema})))
            .collect()
    };
    for endpoint in ENDPOINTS {
        let Some(operation) = document.pointer_mut(&format!(
            "/paths/{}/{}",
            pointer_escape(endpoint.path),
            endpoint.method
        )) else {
            continue;
        };
        let success = content((endpoint.response)(&mut responses));
        if let Some(answers) = operation.get_mut("responses").and_then(Value::as_object_mut) {
            for (status, answer) in answers.iter_mut() {
                // An endpoint that lists 503 itself (`/healthz`) answers it with its own body.
                let own_503 = status == "503" && endpoint.statuses.contains(&503);
                let body = match status.as_str() {
                    "200" | "201" => success.clone(),
                    "503" if own_503 => success.clone(),
                    "304" => continue,
                    _ => json!({"application/json": {"schema": error.clone()}}),
                };
                answer["content"] = body;
            }
        }
        if let Some(request) = endpoint.request {
            operation["requestBody"] =
                json!({"required": true, "content": content(request(&mut requests))});
        }
        if let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
            for parameter in parameters {
                let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                parameter["schema"] = if parameter["in"] == "path" {
                    json!({"type": "string"})
                } else {
                    query_schema(&name)
                };
            }
        }
    }
    let mut schemas = responses.take_definitions(true);
    for (name, schema) in requests.take_definitions(true) {
        schemas.entry(name).or_insert(schema);
    }
    document["components"] = json!({"schemas": schemas});
}

/// Escapes a path for a JSON pointer segment (`~` and `/`).
fn pointer_escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_of_the_document_resolves() {
        let document = openapi_document();
        let text = document.to_string();
        let mut unresolved = Vec::new();
        for piece in text.split("\"$ref\":\"").skip(1) {
            let target = piece.split('"').next().unwrap_or_default();
            let pointer = target.trim_start_matches('#');
            if document.pointer(pointer).is_none() {
                unresolved.push(target.to_owned());
            }
        }
        assert!(unresolved.is_empty(), "unresolved references: {unresolved:?}");
        assert!(document.pointer("/components/schemas/RunSummary").is_some());
    }
}
