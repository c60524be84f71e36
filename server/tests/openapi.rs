//! The OpenAPI document covers the router: every `.route(PATH, method(..))` registered in
//! `src/routes/*.rs` appears in `/api/v1/openapi.json` (served by a real server) with that
//! method, a success answer with a schema, and `ErrorBody` on its error answers; every
//! documented path answers something other than the router's 404 fallback.

mod common;

use std::path::Path;

use common::Farm;

/// `(path, method)` of every route registered in the route modules' sources.
fn registered_routes() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/routes") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("route source");
        for piece in source.split(".route(\"").skip(1) {
            let (route_path, rest) = piece.split_once('"').expect("route path literal");
            // The method router runs to the end of the `.route(..)` call: the line's end.
            let methods = rest.lines().next().unwrap_or_default();
            for method in ["get", "post", "put", "patch", "delete"] {
                let calls = methods
                    .match_indices(&format!("{method}("))
                    .any(|(at, _)| at == 0 || !methods.as_bytes()[at - 1].is_ascii_alphanumeric());
                if calls {
                    routes.push((route_path.to_owned(), method.to_owned()));
                }
            }
        }
    }
    assert!(routes.len() > 20, "found only {routes:?} in {}", dir.display());
    routes
}

/// True when an axum route path and an OpenAPI path name the same URLs: same segments, a
/// `{param}` segment matching any documented segment holding a parameter
/// (`{extension}.svg`, `pg{major}.svg`).
fn same_path(route: &str, documented: &str) -> bool {
    let route: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    let documented: Vec<&str> = documented.split('/').collect();
    route.len() == documented.len()
        && route
            .iter()
            .zip(&documented)
            .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}') && b.contains('{')))
}

#[test]
fn every_route_of_the_router_is_documented_with_its_response_schema() {
    let farm = Farm::sqlite();
    let document = farm.get("/api/v1/openapi.json").json();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    for (route, method) in registered_routes() {
        let found = paths.iter().find(|(documented, item)| {
            same_path(&route, documented) && item.get(&method).is_some()
        });
        let Some((documented, item)) = found else {
            panic!("{} {route} is routed but not in the OpenAPI document", method.to_uppercase());
        };
        let operation = &item[&method];
        let responses = operation["responses"].as_object().expect("responses");
        let success = ["200", "201"]
            .iter()
            .find_map(|status| responses.get(*status))
            .unwrap_or_else(|| panic!("{method} {documented}: no 200 or 201 answer"));
        let content = success["content"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {documented}: the success answer has no content"));
        assert!(
            content.values().all(|media| media["schema"].is_object()),
            "{method} {documented}: a success media type without a schema: {success}"
        );
        for (status, answer) in responses {
            if status.starts_with('4') || (status.starts_with('5') && documented != "/healthz") {
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {documented} {status}"
                );
            }
        }
        if method == "post" && documented != "/api/v1/admin/machines/{name}/{action}" {
            assert!(
                operation["requestBody"]["content"].is_object(),
                "{method} {documented}: no request body"
            );
        }
    }
    // The schemas behind the references are there, with their fields.
    let schemas = &document["components"]["schemas"];
    for (name, field) in [
        ("RunSummary", "uuid"),
        ("MatrixCell", "platform"),
        ("TestHistory", "flaky_on"),
        ("ErrorBody", "code"),
        ("MachineRegistration", "owner_email"),
        ("QueueItem", "pg_major"),
    ] {
        assert!(
            schemas[name]["properties"][field].is_object(),
            "{name}.{field}: {}",
            schemas[name]
        );
    }
    assert!(
        schemas["RunStatus"].to_string().contains("interrupted"),
        "enums list their values: {}",
        schemas["RunStatus"]
    );
}

#[test]
fn every_documented_path_is_served() {
    let farm = Farm::sqlite();
    let document = farm.get("/api/v1/openapi.json").json();
    for (path, item) in document["paths"].as_object().expect("paths") {
        if item.get("get").is_none() {
            continue;
        }
        let url = path
            .replace("{extension}", "nosuchext")
            .replace("{name}", "nosuchmachine")
            .replace("{uuid}", "00000000-0000-4000-8000-000000000000")
            .replace("{test}", "t")
            .replace("{major}", "17");
        let answer = farm.get(&url);
        let routed = answer.status != 404 || !answer.text().contains("route not found");
        assert!(routed, "GET {url}: {} {}", answer.status, answer.text());
    }
}
