//! The HTTP API against a real server on a real port, on SQLite and on PostgreSQL (a
//! throwaway cluster from pgfarm-pgnode; skipped with a note when no installation is found): registration and approval,
//! signed submission with every status code, verdict re-derivation, hostile requests that must
//! leave the database unchanged, and the read endpoints.

mod common;

use std::io::Write;

use common::{Backend, bundle_for, fresh_uuid, now_secs, sample};
use serde_json::json;

fn registered_machine_is_pending_until_approved_and_the_secret_is_shown_once(backend: Backend) {
    let farm = backend.farm();
    let answer = farm.post_json(
        "/api/v1/machines",
        &json!({"name": "m1", "owner_email": "o@example.org", "os": "linux", "arch": "x86_64"}),
    );
    assert_eq!(answer.status, 201, "{}", answer.text());
    assert_eq!(answer.json()["state"], "pending");
    assert!(answer.json().get("secret").is_none());

    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    farm.submit("m1", "0".repeat(64).as_str(), &body).expect_error(403, "machine_not_approved");

    let without_token = farm.post("/api/v1/admin/machines/m1/approve", &[], b"");
    without_token.expect_error(401, "unauthorized");
    let approved = farm.admin("/api/v1/admin/machines/m1/approve", &json!({}));
    assert_eq!(approved.status, 200, "{}", approved.text());
    let secret = approved.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    // Never again: a second approval is a conflict and shows no secret.
    let again = farm.admin("/api/v1/admin/machines/m1/approve", &json!({}));
    again.expect_error(409, "conflict");
    assert!(!again.text().contains(&secret));
    // The machine list never shows secrets or owner addresses.
    let list = farm.get("/api/v1/machines").text();
    assert!(!list.contains(&secret) && !list.contains("o@example.org"), "{list}");
    assert_eq!(farm.get("/api/v1/machines/m1").json()["state"], "approved");
}

fn duplicate_machine_names_and_bad_registrations_are_refused(backend: Backend) {
    let farm = backend.farm();
    let good =
        json!({"name": "dup", "owner_email": "o@example.org", "os": "linux", "arch": "x86_64"});
    assert_eq!(farm.post_json("/api/v1/machines", &good).status, 201);
    farm.post_json("/api/v1/machines", &good).expect_error(409, "conflict");
    let bad_name =
        json!({"name": "a/b", "owner_email": "o@example.org", "os": "linux", "arch": "x86_64"});
    farm.post_json("/api/v1/machines", &bad_name).expect_error(400, "malformed");
    let wrong_type = json!({"name": "x", "owner_email": 5, "os": "linux", "arch": "x86_64"});
    let answer = farm.post_json("/api/v1/machines", &wrong_type);
    answer.expect_error(400, "malformed");
    assert!(answer.json()["message"].as_str().unwrap().contains("owner_email"));
    let missing = json!({"name": "x", "os": "linux", "arch": "x86_64"});
    farm.post_json("/api/v1/machines", &missing).expect_error(400, "malformed");
    let huge = json!({"name": "x", "owner_email": "o@example.org", "os": "linux", "arch": "x86_64", "description": "d".repeat(3000)});
    farm.post_json("/api/v1/machines", &huge).expect_error(400, "malformed");
    let too_big = json!({"name": "x", "owner_email": "o@example.org", "os": "linux", "arch": "x86_64", "description": "d".repeat(100_000)});
    farm.post_json("/api/v1/machines", &too_big).expect_error(413, "too_large");
    assert_eq!(farm.counts().2, 1);
}

fn registrations_are_rate_limited_per_client_address(backend: Backend) {
    let farm = backend.farm_with(|config| config.registrations_per_hour = 2);
    for name in ["r1", "r2"] {
        let answer = farm.post_json(
            "/api/v1/machines",
            &json!({"name": name, "owner_email": "o@example.org", "os": "linux", "arch": "x86_64"}),
        );
        assert_eq!(answer.status, 201);
    }
    let answer = farm.post_json(
        "/api/v1/machines",
        &json!({"name": "r3", "owner_email": "o@example.org", "os": "linux", "arch": "x86_64"}),
    );
    answer.expect_error(429, "rate_limited");
    assert!(answer.header("retry-after").is_some());
}

fn signed_bundle_is_stored_and_readable_and_a_replay_is_409(backend: Backend) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    let (body, bundle) = bundle_for("pass.pgfarm.json", "m1");
    let answer = farm.submit("m1", &secret, &body);
    assert_eq!(answer.status, 201, "{}", answer.text());
    let uuid = bundle.run.id.to_string();
    assert_eq!(answer.json()["uuid"], uuid);
    assert_eq!(answer.json()["url"], format!("/api/v1/runs/{uuid}"));

    let run = farm.get(&format!("/api/v1/runs/{uuid}"));
    assert_eq!(run.status, 200);
    let run_json = run.json();
    assert_eq!(run_json["status"], "ok");
    assert_eq!(run_json["machine"], "m1");
    assert_eq!(run_json["extension"], "tiny");
    assert_eq!(run_json["pg_major"], 15);
    assert!(run.header("cache-control").unwrap().contains("immutable"));
    // The raw bundle comes back byte for byte.
    let raw = farm.get(&format!("/api/v1/runs/{uuid}/bundle"));
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, body);
    let logs = farm.get(&format!("/api/v1/runs/{uuid}/logs")).json();
    assert_eq!(logs["stages"][0]["stage"], "build");

    let before = farm.counts();
    farm.submit("m1", &secret, &body).expect_error(409, "conflict");
    assert_eq!(farm.counts(), before);
    // last-seen is set by the accepted run
    assert!(farm.get("/api/v1/machines/m1").json()["last_seen_at"].is_string());
}

fn signature_and_timestamp_failures_are_401_and_change_nothing(backend: Backend) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    let before = farm.counts();

    farm.submit("m1", &"f".repeat(64), &body).expect_error(401, "bad_signature");
    farm.submit("nobody", &secret, &body).expect_error(401, "unknown_machine");
    farm.submit_at("m1", &secret, &body, Some(now_secs() - 25 * 3600))
        .expect_error(401, "stale_timestamp");
    farm.submit_at("m1", &secret, &body, Some(now_secs() + 600))
        .expect_error(401, "stale_timestamp");
    // Signed over other bytes (one byte flipped in the body after signing).
    let timestamp = now_secs().to_string();
    let signature = pgfarm_server::secrets::sign(&secret, &timestamp, &body);
    let mut tampered = body.clone();
    let last = tampered.len() - 10;
    tampered[last] ^= 1;
    farm.post(
        "/api/v1/runs",
        &[
            ("x-pgfarm-machine", "m1"),
            ("x-pgfarm-timestamp", &timestamp),
            ("x-pgfarm-signature", &signature),
        ],
        &tampered,
    )
    .expect_error(401, "bad_signature");
    // Missing headers, a signature without the sha256= prefix, a timestamp that is no number.
    farm.post("/api/v1/runs", &[], &body).expect_error(401, "unknown_machine");
    farm.post("/api/v1/runs", &[("x-pgfarm-machine", "m1")], &body)
        .expect_error(401, "stale_timestamp");
    farm.post(
        "/api/v1/runs",
        &[
            ("x-pgfarm-machine", "m1"),
            ("x-pgfarm-timestamp", &timestamp),
            ("x-pgfarm-signature", signature.trim_start_matches("sha256=")),
        ],
        &body,
    )
    .expect_error(401, "bad_signature");
    farm.post(
        "/api/v1/runs",
        &[
            ("x-pgfarm-machine", "m1"),
            ("x-pgfarm-timestamp", "yesterday"),
            ("x-pgfarm-signature", &signature),
        ],
        &body,
    )
    .expect_error(401, "stale_timestamp");
    assert_eq!(farm.counts(), before);
}

fn suspended_and_retired_machines_get_403_and_a_rotated_secret_replaces_the_old_one(
    backend: Backend,
) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");

    assert_eq!(farm.admin("/api/v1/admin/machines/m1/suspend", &json!({})).status, 200);
    farm.submit("m1", &secret, &body).expect_error(403, "machine_not_approved");
    let reapproved = farm.admin("/api/v1/admin/machines/m1/approve", &json!({}));
    let new_secret = reapproved.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    farm.submit("m1", &secret, &body).expect_error(401, "bad_signature");

    let rotated = farm.admin("/api/v1/admin/machines/m1/rotate-secret", &json!({}));
    let rotated_secret = rotated.json()["secret"].as_str().unwrap().to_owned();
    farm.submit("m1", &new_secret, &body).expect_error(401, "bad_signature");
    assert_eq!(farm.submit("m1", &rotated_secret, &body).status, 201);

    assert_eq!(farm.admin("/api/v1/admin/machines/m1/retire", &json!({})).status, 200);
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    farm.submit("m1", &rotated_secret, &body).expect_error(403, "machine_not_approved");
    farm.admin("/api/v1/admin/machines/m1/dance", &json!({})).expect_error(404, "not_found");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn hostile_bodies_get_the_right_4xx_and_leave_the_database_unchanged(backend: Backend) {
    let farm = backend.farm_with(|config| {
        config.max_bundle_bytes = 256 * 1024;
        config.max_decompressed_bytes = 4 * 1024 * 1024;
    });
    let secret = farm.approved_machine("m1");
    let (good, _) = bundle_for("pass.pgfarm.json", "m1");
    let before = farm.counts();
    let send = |body: &[u8]| farm.submit("m1", &secret, body);

    // Truncated gzip.
    send(&good[..good.len() / 2]).expect_error(400, "malformed");
    // Not a bundle at all.
    send(b"<html>hello</html>").expect_error(400, "malformed");
    send(b"").expect_error(400, "malformed");
    // Zip bomb: 64 MiB of zeros compress to ~64 KiB, under the upload limit.
    let bomb = gzip(&vec![b' '; 64 << 20]);
    assert!(bomb.len() < 256 * 1024);
    send(&bomb).expect_error(413, "too_large");
    // Over the compressed limit.
    let noise: Vec<u8> =
        (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    send(&noise).expect_error(413, "too_large");
    // Deeply nested JSON.
    let deep =
        format!("{{\"format_version\":1,\"run\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    send(&gzip(deep.as_bytes())).expect_error(400, "malformed");
    // Wrong types: the message names the field.
    let mut value: serde_json::Value = serde_json::to_value(sample("pass.pgfarm.json")).unwrap();
    value["machine"]["name"] = json!("m1");
    value["run"]["id"] = json!(fresh_uuid().to_string());
    let mut wrong = value.clone();
    wrong["postgres"]["major"] = json!("fifteen");
    let answer = send(&gzip(wrong.to_string().as_bytes()));
    answer.expect_error(400, "malformed");
    assert!(
        answer.json()["message"].as_str().unwrap().contains("postgres.major"),
        "{}",
        answer.text()
    );
    // A newer format version: decodes but this server cannot read it.
    let mut newer = value.clone();
    newer["format_version"] = json!(pgfarm_model::FORMAT_VERSION + 1);
    send(&gzip(newer.to_string().as_bytes())).expect_error(422, "inconsistent_bundle");
    // Inconsistent: run says ok while a stage failed.
    let mut inconsistent = value.clone();
    inconsistent["stages"][0]["status"] = json!("failed");
    send(&gzip(inconsistent.to_string().as_bytes())).expect_error(422, "inconsistent_bundle");
    // Signed by m1 but naming another machine.
    let mut other = value.clone();
    other["machine"]["name"] = json!("someone-else");
    send(&gzip(other.to_string().as_bytes())).expect_error(422, "inconsistent_bundle");
    // A huge string field inside the limits is fine to decode but the name check refuses it.
    let mut huge = value.clone();
    huge["extension"]["name"] = json!("x".repeat(1_000_000));
    let answer = send(&gzip(huge.to_string().as_bytes()));
    assert!(matches!(answer.status, 400 | 422), "{}", answer.text());

    assert_eq!(farm.counts(), before, "a rejected request changed the database");
    // And the good one still goes in afterwards.
    assert_eq!(send(&good).status, 201);
}

fn server_rederives_statuses_and_ignores_a_lying_client(backend: Backend) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    // The failing regress sample, with every status rewritten to "ok" (consistently, so the
    // bundle validates): the raw actual output still differs from every expected variant.
    let mut bundle = sample("regress-fail.pgfarm.json");
    bundle.machine.name = "m1".into();
    bundle.run.id = fresh_uuid();
    bundle.run.status = pgfarm_model::RunStatus::Ok;
    for stage in &mut bundle.stages {
        stage.status = pgfarm_model::StageStatus::Ok;
    }
    for test in &mut bundle.regress {
        test.status = pgfarm_model::TestStatus::Ok;
    }
    let answer = farm.submit("m1", &secret, &bundle.to_gzip_vec());
    assert_eq!(answer.status, 201, "{}", answer.text());
    let run = farm.get(&format!("/api/v1/runs/{}", bundle.run.id)).json();
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["failed_stage"], "regress");
    let three =
        run["tests"].as_array().unwrap().iter().find(|t| t["name"] == "three").expect("test three");
    assert_eq!(three["status"], "failed");

    // And the TAP sample: failing points are found in the stream.
    let (body, tap) = bundle_for("tap-fail.pgfarm.json", "m1");
    assert_eq!(farm.submit("m1", &secret, &body).status, 201);
    let run = farm.get(&format!("/api/v1/runs/{}", tap.run.id)).json();
    assert_eq!(run["status"], "failed");
    assert_eq!(run["failed_stage"], "tap");
}

fn html_and_sql_payloads_are_stored_verbatim_and_returned_escaped(backend: Backend) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    let payload = "<script>alert(1)</script>'; DROP TABLE runs; --";
    let answer = farm.post_json(
        "/api/v1/machines",
        &json!({"name": "evil", "owner_email": "o@example.org", "os": "linux", "arch": "x86_64", "description": payload}),
    );
    assert_eq!(answer.status, 201);
    let machine = farm.get("/api/v1/machines/evil");
    assert_eq!(machine.json()["description"], payload);
    assert!(machine.header("content-type").unwrap().starts_with("application/json"));

    let (body, bundle) = bundle_for("hostile.pgfarm.json", "m1");
    let answer = farm.submit("m1", &secret, &body);
    assert_eq!(answer.status, 201, "{}", answer.text());
    let run = farm.get(&format!("/api/v1/runs/{}", bundle.run.id)).json();
    assert_eq!(run["extension"], bundle.extension.name);
    // Filters with SQL in them are values, not SQL.
    let runs = farm.get("/api/v1/runs?extension=x%27%20OR%20%271%27%3D%271");
    assert_eq!(runs.status, 200);
    assert_eq!(runs.json()["items"].as_array().unwrap().len(), 0);
    // Badges and feeds escape the extension name.
    let badge = farm.get("/badge/%3Cscript%3E.svg");
    assert_eq!(badge.status, 200);
    assert!(!badge.text().contains("<script>") && badge.text().contains("&lt;script&gt;"));
    assert_eq!(farm.counts().0, 1);
}

fn reads_show_matrix_failures_history_trends_stats_queue_badges_and_feed(backend: Backend) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    // Green, then red, then green again on the same cell (tiny, PG 15, linux/x86_64).
    let mut uuids = Vec::new();
    for (idx, name) in ["pass.pgfarm.json", "regress-fail.pgfarm.json", "regress-fail.pgfarm.json"]
        .iter()
        .enumerate()
    {
        let mut bundle = sample(name);
        if idx == 2 {
            // The fix: test `three` now prints its expected output.
            let three = bundle.regress.iter_mut().find(|test| test.name == "three").unwrap();
            three.actual = three.expected[0].content.clone();
            three.status = pgfarm_model::TestStatus::Ok;
            bundle.run.status = pgfarm_model::RunStatus::Ok;
            for stage in &mut bundle.stages {
                stage.status = pgfarm_model::StageStatus::Ok;
            }
        }
        bundle.machine.name = "m1".into();
        bundle.run.id = fresh_uuid();
        // Move the run (and its stage times) to t0 + idx minutes so the order is clear.
        let t0 = sample("pass.pgfarm.json").run.created_at + time::Duration::hours(1);
        let delta = t0 + time::Duration::minutes(idx as i64) - bundle.run.created_at;
        bundle.run.created_at += delta;
        bundle.run.finished_at += delta;
        for stage in &mut bundle.stages {
            stage.started_at = stage.started_at.map(|at| at + delta);
        }
        bundle.extension.name = "tiny".into();
        bundle.postgres.major = 15;
        let answer = farm.submit("m1", &secret, &bundle.to_gzip_vec());
        assert_eq!(answer.status, 201, "{}", answer.text());
        uuids.push(bundle.run.id.to_string());
    }

    let matrix = farm.get("/api/v1/matrix").json();
    let cells = matrix.as_array().unwrap();
    assert_eq!(cells.len(), 1, "{matrix}");
    assert_eq!(cells[0]["status"], "ok");
    assert_eq!(cells[0]["run"], uuids[2]);
    assert_eq!(cells[0]["platform"], "linux/x86_64");
    let run = farm.get(&format!("/api/v1/runs/{}", uuids[2])).json();
    assert_eq!(cells[0]["n_tests"], run["n_tests"], "the cell counts the latest run's tests");

    let failures = farm.get("/api/v1/failures?days=1").json();
    assert_eq!(failures["items"].as_array().unwrap().len(), 1);
    assert_eq!(failures["items"][0]["uuid"], uuids[1]);
    let filtered = farm.get("/api/v1/failures?days=1&pg=15&extension=tiny&limit=10");
    assert_eq!(filtered.status, 200, "{}", filtered.text());
    assert_eq!(filtered.json()["items"].as_array().unwrap().len(), 1);
    let hidden = farm.get("/api/v1/failures?days=1&hide_now_green=true").json();
    assert_eq!(hidden["items"].as_array().unwrap().len(), 0, "{hidden}");

    let runs = farm.get("/api/v1/runs?limit=2").json();
    assert_eq!(runs["items"].as_array().unwrap().len(), 2);
    let next = runs["next"].as_str().expect("a next cursor");
    let rest = farm.get(&format!("/api/v1/runs?limit=2&after={next}")).json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["uuid"], uuids[0]);
    assert!(rest["next"].is_null());
    assert_eq!(farm.get("/api/v1/runs?status=failed").json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(farm.get("/api/v1/runs?stage=regress").json()["items"].as_array().unwrap().len(), 1);
    farm.get("/api/v1/runs?status=bogus").expect_error(400, "malformed");
    farm.get("/api/v1/runs?since=yesterday").expect_error(400, "malformed");

    let history = farm.get("/api/v1/extensions/tiny/tests/three/history").json();
    let entries = history["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{history}");
    assert_eq!(entries[0]["status"], "ok");
    assert_eq!(entries[1]["status"], "failed");
    assert_eq!(history["flaky"], true, "{history}");
    assert_eq!(history["flip_rate"], 1.0);

    let trends = farm.get("/api/v1/trends?days=2").json();
    let total: i64 = trends.as_array().unwrap().iter().map(|p| p["n_runs"].as_i64().unwrap()).sum();
    assert_eq!(total, 3);
    assert_eq!(farm.get("/api/v1/trends?days=2&extension=tiny").json(), trends);
    assert_eq!(farm.get("/api/v1/trends?days=2&extension=other").json(), json!([]));
    farm.get("/api/v1/trends?days=0").expect_error(400, "malformed");

    // Stage durations: per stage, the runs in which it ran (ok or failed, as the server derived
    // it) and the sum and maximum of their durations, as the three run details say.
    let mut expected: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
    for uuid in &uuids {
        let run = farm.get(&format!("/api/v1/runs/{uuid}")).json();
        for stage in run["stages"].as_array().unwrap() {
            if stage["status"] == "ok" || stage["status"] == "failed" {
                let duration = stage["duration_ms"].as_i64().unwrap();
                let entry = expected.entry(stage["kind"].as_str().unwrap().to_owned()).or_default();
                entry.0 += 1;
                entry.1 += duration;
                entry.2 = entry.2.max(duration);
            }
        }
    }
    assert!(expected.contains_key("regress"), "{expected:?}");
    let stages = farm.get("/api/v1/trends/stages?days=2&extension=tiny");
    assert_eq!(stages.status, 200, "{}", stages.text());
    let mut got: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
    for point in stages.json().as_array().unwrap() {
        assert_eq!(point["pg_major"], 15);
        let entry = got.entry(point["stage"].as_str().unwrap().to_owned()).or_default();
        entry.0 += point["n_runs"].as_i64().unwrap();
        entry.1 += point["total_ms"].as_i64().unwrap();
        entry.2 = entry.2.max(point["max_ms"].as_i64().unwrap());
    }
    assert_eq!(got, expected);
    assert_eq!(farm.get("/api/v1/trends/stages?days=2").json(), stages.json());
    assert_eq!(farm.get("/api/v1/trends/stages?extension=other").json(), json!([]));
    farm.get("/api/v1/trends/stages?days=99999").expect_error(400, "malformed");

    // The machine grid: the last received run per machine and major.
    let grid = farm.get("/api/v1/extensions/tiny/machines").json();
    let items = grid.as_array().unwrap();
    assert_eq!(items.len(), 1, "{grid}");
    assert_eq!((&items[0]["uuid"], &items[0]["machine"]), (&json!(uuids[2]), &json!("m1")));
    let version = items[0]["version"].as_str().unwrap().to_owned();
    let by_version = farm.get(&format!("/api/v1/extensions/tiny/machines?version={version}"));
    assert_eq!(by_version.json(), grid);
    farm.get("/api/v1/extensions/tiny/machines?version=0.0.0-none").expect_error(404, "not_found");
    farm.get("/api/v1/extensions/none/machines").expect_error(404, "not_found");
    let stats = farm.get("/api/v1/stats").json();
    assert_eq!(stats["n_runs"], 3);
    assert_eq!(stats["n_extensions"], 1);

    // Queue: a release announced by the admin for PG 13+ that m1 has not tested.
    let release = farm.admin(
        "/api/v1/admin/extensions",
        &json!({"extension": "tiny", "version": "2.0.0", "pg_min": 13}),
    );
    assert_eq!(release.status, 201, "{}", release.text());
    let queue = farm.get("/api/v1/machines/m1/queue?pg=15").json();
    let versions: Vec<&str> =
        queue.as_array().unwrap().iter().map(|q| q["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["2.0.0"], "{queue}");
    let queue_pg12 = farm.get("/api/v1/machines/m1/queue?pg=12").json();
    assert!(
        !queue_pg12.to_string().contains("2.0.0") && !queue_pg12.to_string().contains("1.0.0"),
        "{queue_pg12}"
    );
    let queue_pg16 = farm.get("/api/v1/machines/m1/queue?pg=16").json();
    assert!(queue_pg16.to_string().contains("1.0.0"), "learned from runs: {queue_pg16}");

    let badge = farm.get("/badge/tiny.svg");
    assert_eq!(badge.header("content-type"), Some("image/svg+xml"));
    assert!(badge.text().contains("passing"));
    assert!(farm.get("/badge/tiny/pg15.svg").text().contains("passing"));
    assert!(farm.get("/badge/tiny/pg16.svg").text().contains("no runs"));
    let shields = farm.get("/badge/tiny.json").json();
    assert_eq!(shields["schemaVersion"], 1);
    assert_eq!(shields["message"], "passing");

    let feed = farm.get("/api/v1/feed.atom");
    assert_eq!(feed.header("content-type"), Some("application/atom+xml"));
    assert_eq!(feed.text().matches("<entry>").count(), 2, "{}", feed.text());
    assert!(feed.text().contains("ok -&gt; failed") && feed.text().contains("failed -&gt; ok"));
    assert_eq!(farm.get("/api/v1/extensions/tiny/feed.atom").text().matches("<entry>").count(), 2);

    let extension = farm.get("/api/v1/extensions/tiny").json();
    assert_eq!(extension["cells"].as_array().unwrap().len(), 1);
    assert_eq!(farm.get("/api/v1/extensions").json()[0]["name"], "tiny");
}

fn failures_are_paged_newest_first_by_receive_time_then_id(backend: Backend) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    let mut uuids = Vec::new();
    for _ in 0..5 {
        let (body, bundle) = bundle_for("regress-fail.pgfarm.json", "m1");
        assert_eq!(farm.submit("m1", &secret, &body).status, 201);
        uuids.push(bundle.run.id.to_string());
    }
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    assert_eq!(farm.submit("m1", &secret, &body).status, 201);
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = farm.get(&format!("/api/v1/failures?days=1&limit=2&after={after}")).json();
        let items = page["items"].as_array().expect("items");
        seen.extend(items.iter().map(|item| item["uuid"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
        assert!(seen.len() <= 5, "paging does not end: {seen:?}");
    }
    uuids.reverse();
    assert_eq!(seen, uuids, "every failure once, newest first");
    farm.get("/api/v1/failures?after=12345").expect_error(400, "malformed");
    farm.get("/api/v1/failures?after=1_x").expect_error(400, "malformed");
}

fn the_served_matrix_shows_a_run_as_soon_as_it_is_stored(backend: Backend) {
    let farm = backend.farm();
    let secret = farm.approved_machine("m1");
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    assert_eq!(farm.submit("m1", &secret, &body).status, 201);
    let first = farm.get("/api/v1/matrix");
    assert_eq!(first.json().as_array().map(Vec::len), Some(1));
    // Served again (from the cache), then a run of another extension is stored.
    assert_eq!(farm.get("/api/v1/matrix").body, first.body);
    let mut bundle = sample("pass.pgfarm.json");
    bundle.machine.name = "m1".into();
    bundle.run.id = fresh_uuid();
    bundle.extension.name = "other".into();
    assert_eq!(farm.submit("m1", &secret, &bundle.to_gzip_vec()).status, 201);
    let after = farm.get("/api/v1/matrix").json();
    let extensions: Vec<&str> =
        after.as_array().unwrap().iter().map(|cell| cell["extension"].as_str().unwrap()).collect();
    assert!(extensions.contains(&"other"), "{after}");
}

fn lists_answer_304_to_a_matching_etag(backend: Backend) {
    let farm = backend.farm();
    let first = farm.get("/api/v1/matrix");
    let etag = first.header("etag").expect("etag").to_owned();
    let second = farm.get_with("/api/v1/matrix", &[("if-none-match", &etag)]);
    assert_eq!(second.status, 304);
    assert!(second.body.is_empty());
    let other = farm.get_with("/api/v1/matrix", &[("if-none-match", "\"nope\"")]);
    assert_eq!(other.status, 200);
}

fn operations_endpoints_answer(backend: Backend) {
    let farm = backend.farm();
    let health = farm.get("/healthz").json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], backend.kind());
    let metrics = farm.get("/metrics").text();
    assert!(metrics.contains("pgfarm_http_requests_total{class=\"2xx\"}"), "{metrics}");
    let index = farm.get("/api/v1").json();
    assert_eq!(
        index["links"]["runs"]["href"],
        "/api/v1/runs{?extension,version,machine,pg,stage,status,cause,since,until,after,limit}"
    );
    let openapi = farm.get("/api/v1/openapi.json").json();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/v1/machines"]["post"].is_object());
    assert!(
        openapi["paths"]["/api/v1/machines"]["get"].is_object(),
        "GET and POST on one path are both kept"
    );
    let home = farm.get("/");
    if pgfarm_webapp::WebApp::embedded().is_some() {
        // Built after scripts/web-build.sh: `/` is the dashboard (the API index is /api/v1), and
        // any other page path is the app's to route (SPA fallback).
        assert!(home.text().contains("<html"), "{}", home.text());
        assert!(farm.get("/no/such/page").text().contains("<html"));
    } else {
        assert!(home.text().contains("/api/v1/openapi.json"));
        farm.get("/no/such/page").expect_error(404, "not_found");
    }
    farm.get("/api/v1/no/such/thing").expect_error(404, "not_found");
    // gzip answers when asked.
    let compressed = farm.get_with("/api/v1/openapi.json", &[("accept-encoding", "gzip")]);
    assert_eq!(compressed.status, 200);
}

fn runs_survive_a_restart(backend: Backend) {
    let mut farm = backend.farm();
    let secret = farm.approved_machine("m1");
    let (body, bundle) = bundle_for("pass.pgfarm.json", "m1");
    let answer = farm.submit("m1", &secret, &body);
    assert_eq!(answer.status, 201, "{}", answer.text());
    farm.restart();
    assert_eq!(farm.get(&format!("/api/v1/runs/{}", bundle.run.id)).status, 200);
    // The secret still works after the restart (same server key in the data dir).
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    assert_eq!(farm.submit("m1", &secret, &body).status, 201);
}

fn a_database_migrated_by_a_newer_server_is_refused_with_a_clear_message(backend: Backend) {
    let mut farm = backend.farm();
    let config = farm.config.clone();
    if let Some(server) = farm.server.take() {
        farm.runtime.block_on(server.shutdown());
    }
    let insert = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                  VALUES (9999, 'from the future', TRUE, X'00', 0)";
    farm.runtime.block_on(async {
        if config.is_sqlite() {
            let pool = sqlx::SqlitePool::connect(&config.database_url).await.unwrap();
            sqlx::query(insert).execute(&pool).await.unwrap();
        } else {
            let pool = sqlx::PgPool::connect(&config.database_url).await.unwrap();
            let insert = insert.replace("X'00'", "'\\x00'::bytea");
            sqlx::query(sqlx::AssertSqlSafe(insert)).execute(&pool).await.unwrap();
        }
    });
    let err = farm.runtime.block_on(pgfarm_server::prepare(config)).err().expect("refused");
    let message = format!("{err:#}");
    assert!(
        message.contains("schema version 9999") && message.contains("upgrade pgfarm-server"),
        "{message}"
    );
}

common::on_both_backends! {
    a_database_migrated_by_a_newer_server_is_refused_with_a_clear_message,
    registered_machine_is_pending_until_approved_and_the_secret_is_shown_once,
    duplicate_machine_names_and_bad_registrations_are_refused,
    registrations_are_rate_limited_per_client_address,
    signed_bundle_is_stored_and_readable_and_a_replay_is_409,
    signature_and_timestamp_failures_are_401_and_change_nothing,
    suspended_and_retired_machines_get_403_and_a_rotated_secret_replaces_the_old_one,
    hostile_bodies_get_the_right_4xx_and_leave_the_database_unchanged,
    server_rederives_statuses_and_ignores_a_lying_client,
    html_and_sql_payloads_are_stored_verbatim_and_returned_escaped,
    reads_show_matrix_failures_history_trends_stats_queue_badges_and_feed,
    failures_are_paged_newest_first_by_receive_time_then_id,
    the_served_matrix_shows_a_run_as_soon_as_it_is_stored,
    lists_answer_304_to_a_matching_etag,
    operations_endpoints_answer,
    runs_survive_a_restart,
}

/// PostgreSQL only: every connection of the server is killed (as a database restart or a
/// network cut does); requests in that moment answer 200 or 503, never crash the server, and
/// the server recovers by itself.
#[test]
fn lost_postgres_connections_give_503_or_recover_and_never_crash() {
    if !Backend::Postgres.available() {
        eprintln!("note: skipped, no PostgreSQL installation");
        return;
    }
    let farm = Backend::Postgres.farm();
    let secret = farm.approved_machine("m1");
    let database = farm.config.database_url.rsplit('/').next().unwrap().to_owned();
    let killed = common::terminate_backends(&database);
    assert!(killed > 0, "the server had no connection to kill");
    for _ in 0..5 {
        let answer = farm.get("/api/v1/matrix");
        assert!(matches!(answer.status, 200 | 503), "{} {}", answer.status, answer.text());
        if answer.status == 503 {
            assert_eq!(answer.json()["code"], "unavailable");
        }
    }
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    let mut stored = false;
    for _ in 0..10 {
        let answer = farm.submit("m1", &secret, &body);
        if answer.status == 201 {
            stored = true;
            break;
        }
        answer.expect_error(503, "unavailable");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(stored, "the server did not recover");
    assert_eq!(farm.get("/healthz").status, 200);
}
