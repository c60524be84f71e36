//! Wire types of the pgfarm server's JSON API (`/api/v1`): requests, responses and the error body.
//!
//! These are plain serde types shared by the server, the upload client in `pgfarm-runner`, the
//! `pgfarm` CLI and the web app. Times are RFC 3339 strings in UTC and uuids are lowercase
//! hyphenated strings, so this module needs nothing but serde and schemars (it compiles to
//! wasm32). Every type derives `schemars::JsonSchema`: the server's OpenAPI document takes its
//! request and response schemas from them.
//! The HTTP API itself is described in `docs/api.md` and served as OpenAPI at
//! `/api/v1/openapi.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{RunStatus, StageKind, StageStatus, TestStatus};

/// The JSON body of every error answer of the API: `{"code": "...", "message": "..."}`.
///
/// `code` is stable and meant for programs; `message` is for people and names the offending
/// field, header or limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// What went wrong, as a stable machine-readable value.
    pub code: ErrorCode,
    /// What went wrong, for people: names the field, header or limit involved.
    pub message: String,
}

/// Machine-readable error kinds, serialised as `snake_case` strings.
///
/// Each names the HTTP status it travels with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the request is malformed (bad JSON, a missing or ill-typed field, bad gzip, a bad
    /// query parameter). Example: `{"code":"malformed","message":"field `name`: missing"}`.
    Malformed,
    /// 401: the `X-Pgfarm-Machine` header names no registered machine.
    UnknownMachine,
    /// 401: the `X-Pgfarm-Signature` header is missing, malformed or does not match the body.
    BadSignature,
    /// 401: the `X-Pgfarm-Timestamp` is missing or outside the accepted window
    /// (24 hours back, 2 minutes ahead).
    StaleTimestamp,
    /// 401: the admin bearer token is missing or wrong.
    Unauthorized,
    /// 403: the machine exists but is not approved (pending, rejected, suspended or retired).
    MachineNotApproved,
    /// 404: no such resource.
    NotFound,
    /// 409: the resource exists already (a run uuid submitted twice, a machine name taken).
    Conflict,
    /// 413: the body is larger than the configured limit, compressed or decompressed.
    TooLarge,
    /// 422: the bundle decodes but is inconsistent (for example a format version this server
    /// does not read, or stage and test data that contradict each other).
    InconsistentBundle,
    /// 429: too many requests from this client; retry later.
    RateLimited,
    /// 503: the store is unavailable (database connection lost, disk full); retry later.
    Unavailable,
    /// 500: an internal error; details are in the server log, never in the answer.
    Internal,
}

impl ErrorCode {
    /// The HTTP status code this error travels with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Malformed => 400,
            ErrorCode::UnknownMachine
            | ErrorCode::BadSignature
            | ErrorCode::StaleTimestamp
            | ErrorCode::Unauthorized => 401,
            ErrorCode::MachineNotApproved => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::InconsistentBundle => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// The `snake_case` wire name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownMachine => "unknown_machine",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::StaleTimestamp => "stale_timestamp",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::MachineNotApproved => "machine_not_approved",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::InconsistentBundle => "inconsistent_bundle",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// Header naming the submitting machine.
pub const HEADER_MACHINE: &str = "x-pgfarm-machine";
/// Header carrying the unix time (seconds) the signature was made at.
pub const HEADER_TIMESTAMP: &str = "x-pgfarm-timestamp";
/// Header carrying `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub const HEADER_SIGNATURE: &str = "x-pgfarm-signature";

/// `POST /api/v1/machines`: a machine asks to join the farm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MachineRegistration {
    /// Unique name: 1 to 64 characters of `[A-Za-z0-9._-]`.
    pub name: String,
    /// Who to contact about this machine.
    pub owner_email: String,
    /// Free text shown on the machine's page (at most 2000 characters).
    #[serde(default)]
    pub description: String,
    /// Operating system, for example `debian-12`.
    pub os: String,
    /// CPU architecture, for example `x86_64`.
    pub arch: String,
    /// Compiler used to build extensions, for example `gcc-12`.
    #[serde(default)]
    pub compiler: String,
}

/// The lifecycle state of a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MachineState {
    /// Registered, waiting for an admin.
    Pending,
    /// May submit runs.
    Approved,
    /// Refused by an admin; may not submit.
    Rejected,
    /// Temporarily barred from submitting; its runs stay visible.
    Suspended,
    /// Out of service for good; its runs stay visible.
    Retired,
}

impl MachineState {
    /// The `snake_case` wire name, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineState::Pending => "pending",
            MachineState::Approved => "approved",
            MachineState::Rejected => "rejected",
            MachineState::Suspended => "suspended",
            MachineState::Retired => "retired",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(text: &str) -> Option<MachineState> {
        Some(match text {
            "pending" => MachineState::Pending,
            "approved" => MachineState::Approved,
            "rejected" => MachineState::Rejected,
            "suspended" => MachineState::Suspended,
            "retired" => MachineState::Retired,
            _ => return None,
        })
    }
}

/// A machine as the API shows it to anyone (never its secret, never the owner's address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Machine {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// Compiler.
    pub compiler: String,
    /// Lifecycle state.
    pub state: MachineState,
    /// When it registered (RFC 3339).
    pub created_at: String,
    /// When it last submitted a run (RFC 3339), if ever.
    pub last_seen_at: Option<String>,
}

/// `POST /api/v1/admin/machines/{name}/approve` and `.../rotate-secret`: the secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MachineSecret {
    /// Machine name.
    pub name: String,
    /// The HMAC secret (64 hex characters). The server never shows it again.
    pub secret: String,
}

/// `201` answer of `POST /api/v1/runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunCreated {
    /// The run's uuid.
    pub uuid: String,
    /// Absolute path of the run resource, `/api/v1/runs/{uuid}`.
    pub url: String,
}

/// One stage of a run as the server derived it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StageSummary {
    /// Which stage.
    pub kind: StageKind,
    /// Re-derived status.
    pub status: StageStatus,
    /// Duration in milliseconds, as reported.
    pub duration_ms: i64,
}

/// `tested` when an answer lacks it (a server older than migration 0005 sent none).
fn tested_by_default() -> bool {
    true
}

/// A run in lists: enough for a table row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunSummary {
    /// The run's uuid.
    pub uuid: String,
    /// Machine name.
    pub machine: String,
    /// Extension name.
    pub extension: String,
    /// Extension version (or git ref).
    pub version: String,
    /// Full PostgreSQL version, for example `17.2`.
    pub pg_version: String,
    /// PostgreSQL major, for example `17`.
    pub pg_major: i64,
    /// `os/arch` of the machine.
    pub platform: String,
    /// Re-derived status of the run.
    pub status: RunStatus,
    /// The first stage that failed, if any.
    pub failed_stage: Option<StageKind>,
    /// A test stage ran (regress, isolation, tap, perl_tap or installcheck, ok or failed); an `ok`
    /// run that tested nothing is "missing tests" (pgfarm-verdict's `cell`).
    #[serde(default = "tested_by_default")]
    pub tested: bool,
    /// Number of tests (regress tests, isolation specs, TAP and Perl TAP files).
    pub n_tests: i64,
    /// Number of failed tests.
    pub n_failed: i64,
    /// When the run was made (RFC 3339).
    pub created_at: String,
    /// When the server received it (RFC 3339).
    pub received_at: String,
}

/// One test's result inside a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestSummary {
    /// Stage it belongs to (`regress` or `tap`).
    pub stage: StageKind,
    /// Test name (a regress test or a TAP file).
    pub name: String,
    /// Re-derived status.
    pub status: TestStatus,
    /// Duration in milliseconds.
    pub duration_ms: i64,
}

/// `GET /api/v1/runs/{uuid}`: a run with its stages and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunDetail {
    /// The run row.
    #[serde(flatten)]
    pub run: RunSummary,
    /// Stages in order.
    pub stages: Vec<StageSummary>,
    /// Tests in order.
    pub tests: Vec<TestSummary>,
    /// Path of the raw bundle.
    pub bundle_url: String,
}

/// A keyset-paginated list: `next` is the cursor to pass as `?after=` for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Cursor of the next page; `None` on the last page.
    pub next: Option<String>,
}

/// One cell of the status matrix: the latest run of an extension on a PostgreSQL major and a
/// platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixCell {
    /// Extension name.
    pub extension: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// `os/arch`.
    pub platform: String,
    /// Extension version of that run.
    pub version: String,
    /// The run's worst status.
    pub status: RunStatus,
    /// The first failed stage, if any.
    pub failed_stage: Option<StageKind>,
    /// That run ran a test stage; an `ok` run that tested nothing is shown as "missing tests",
    /// not as a pass (pgfarm-verdict's `cell`).
    #[serde(default = "tested_by_default")]
    pub tested: bool,
    /// Number of tests in that run (regress tests, isolation specs, TAP and Perl TAP files).
    #[serde(default)]
    pub n_tests: i64,
    /// The run's uuid.
    pub run: String,
    /// When that run was made (RFC 3339).
    pub when: String,
    /// The release status of that version (`stable`, `testing`, `unstable`) when it is a known
    /// release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_status: Option<String>,
}

/// `GET /api/v1/extensions/{extension}`: the extension's matrix cells and versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExtensionDetail {
    /// Extension name.
    pub name: String,
    /// Its matrix cells (PostgreSQL major x platform).
    pub cells: Vec<MatrixCell>,
    /// Its versions with run counts.
    pub versions: Vec<VersionCounts>,
    /// Its known releases (from PGXN, an admin, or learned from runs), newest first.
    #[serde(default)]
    pub releases: Vec<Release>,
}

/// A known release of an extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Release {
    /// Extension (for PGXN releases, the dist name as its META writes it).
    pub extension: String,
    /// Version.
    pub version: String,
    /// `stable`, `testing` or `unstable` (releases not from PGXN count as stable).
    pub release_status: String,
    /// Where the server learned of it: `pgxn`, `admin` or `learned` (from a run).
    pub source: String,
    /// Release date (RFC 3339; for PGXN releases PGXN's date).
    pub date: String,
    /// The META's abstract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#abstract: Option<String>,
    /// The PGXN user who uploaded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The PostgreSQL range its META declares, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pg_range: Option<String>,
    /// Lowest PostgreSQL major it is queued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pg_min: Option<i64>,
    /// Highest PostgreSQL major it is queued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pg_max: Option<i64>,
    /// Its page on PGXN (`https://pgxn.org/dist/{dist}/{version}/`), for PGXN releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgxn_url: Option<String>,
    /// Runs of it.
    pub n_runs: i64,
    /// Failed runs of it.
    pub n_failed: i64,
}

/// `GET /api/v1/users`: a PGXN user (author) whose releases the server synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserSummary {
    /// PGXN nickname.
    pub nickname: String,
    /// Full name.
    pub name: String,
    /// Home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Their page on PGXN (`https://pgxn.org/user/{nickname}/`).
    pub pgxn_url: String,
    /// Distributions they released.
    pub n_dists: i64,
    /// Releases they uploaded.
    pub n_releases: i64,
}

/// `GET /api/v1/users/{name}`: a PGXN user and their distributions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserDetail {
    /// The user and counts.
    pub user: UserSummary,
    /// Their distributions, by name.
    pub distributions: Vec<UserDistribution>,
}

/// A distribution of a PGXN user, with the releases they uploaded (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserDistribution {
    /// Dist name as its META writes it.
    pub dist: String,
    /// The newest release's abstract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#abstract: Option<String>,
    /// Releases, newest first.
    pub releases: Vec<Release>,
}

/// A version of an extension with its run counts (`GET /api/v1/extensions/{extension}/versions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VersionCounts {
    /// Version.
    pub version: String,
    /// Runs of it.
    pub n_runs: i64,
    /// Failed runs of it.
    pub n_failed: i64,
}

/// `GET /api/v1/owners`: an owner, with the address masked, and the machines it registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Owner {
    /// The owner's address, masked: `a***@example.org`.
    pub owner: String,
    /// Names of its machines.
    pub machines: Vec<String>,
}

/// A test's result in one run, for per-test history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestHistoryEntry {
    /// Run uuid.
    pub run: String,
    /// Machine name.
    pub machine: String,
    /// Extension version.
    pub version: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// Result of the test in that run.
    pub status: TestStatus,
    /// When the run was made (RFC 3339).
    pub created_at: String,
}

/// `GET /api/v1/extensions/{ext}/tests/{test}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestHistory {
    /// Extension name.
    pub extension: String,
    /// Test name.
    pub test: String,
    /// Newest first.
    pub entries: Vec<TestHistoryEntry>,
    /// True when the test both passed and failed on one extension version, PostgreSQL version
    /// and machine.
    pub flaky: bool,
    /// The (version, pg_version, machine) triples on which it was seen flaky.
    pub flaky_on: Vec<FlakyCombination>,
    /// Share of consecutive entries whose status differs (0.0 to 1.0) over `entries`.
    pub flip_rate: f64,
}

/// One combination on which a test both passed and failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlakyCombination {
    /// Extension version.
    pub version: String,
    /// PostgreSQL version (full).
    pub pg_version: String,
    /// Machine name.
    pub machine: String,
}

/// Runs per day per status and PostgreSQL major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TrendPoint {
    /// Day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// Status.
    pub status: RunStatus,
    /// Number of runs.
    pub n_runs: i64,
}

/// Durations of one stage per day and PostgreSQL major (`GET /api/v1/trends/stages`), over the
/// runs in which the stage ran (status `ok` or `failed`). Sums, so points of several majors or
/// days add up: the mean is `total_ms / n_runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StageTrendPoint {
    /// Day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// Which stage.
    pub stage: StageKind,
    /// Runs in which the stage ran that day.
    pub n_runs: i64,
    /// Sum of their durations in milliseconds.
    pub total_ms: i64,
    /// The longest of them, in milliseconds.
    pub max_ms: i64,
}

/// `GET /api/v1/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    /// Stored runs.
    pub n_runs: i64,
    /// Known machines (all states).
    pub n_machines: i64,
    /// Extensions with at least one run.
    pub n_extensions: i64,
    /// Stored test results.
    pub n_test_results: i64,
    /// Matrix cells currently failing.
    pub n_failing_cells: i64,
}

/// An extension with its latest activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Extension {
    /// Name.
    pub name: String,
    /// Matrix cells (PostgreSQL major x platform) with a run.
    pub n_cells: i64,
    /// Cells whose latest run failed.
    pub n_failing: i64,
}

/// `POST /api/v1/admin/extensions`: announce a released extension version (for the work queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExtensionRelease {
    /// Extension name.
    pub extension: String,
    /// Released version.
    pub version: String,
    /// Lowest PostgreSQL major it supports (from META.json `prereqs.runtime.requires.PostgreSQL`).
    #[serde(default)]
    pub pg_min: Option<i64>,
    /// Highest PostgreSQL major it supports, if limited.
    #[serde(default)]
    pub pg_max: Option<i64>,
}

/// `GET /api/v1/machines/{name}/queue?pg=17`: one extension version to test next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QueueItem {
    /// Extension name.
    pub extension: String,
    /// Version to test.
    pub version: String,
    /// PostgreSQL major to test it on.
    pub pg_major: i64,
    /// PGXN dist name as its META writes it (PGXN releases only; then `extension` is the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist: Option<String>,
    /// `stable`, `testing` or `unstable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_status: Option<String>,
    /// Absolute URL of the release's zip (the mirror's `download` template expanded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// SHA-1 of the zip, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// The PGXN base URL the server synced the release from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
}

/// A status change of a matrix cell, as the Atom feed lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusChange {
    /// Extension name.
    pub extension: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// `os/arch`.
    pub platform: String,
    /// The run that changed the status.
    pub run: String,
    /// Status before.
    pub from: RunStatus,
    /// Status after.
    pub to: RunStatus,
    /// When (RFC 3339).
    pub at: String,
}

/// shields.io endpoint badge JSON (<https://shields.io/badges/endpoint-badge>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShieldsEndpoint {
    /// Always 1.
    pub schema_version: u8,
    /// Left text.
    pub label: String,
    /// Right text.
    pub message: String,
    /// Right colour.
    pub color: String,
}
