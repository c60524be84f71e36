//! One run: stages, logs, regress diffs and TAP trees computed in the browser from its bundle.
//! Reads `/api/v1/runs/{uuid}` (the server's summary, for links) and then the raw bundle from
//! its `bundle_url` (gzip or JSON), parsed with `pgfarm-model` under a decompression cap.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use pgfarm_model::api::RunDetail;
use pgfarm_model::{Bundle, ReadOptions};

use crate::api::{ApiFailure, get_bytes, get_json};
use crate::components::remote::set_title;
use crate::components::run_view::{RunView, mark_data_arrived};
use crate::components::states::{ErrorState, Loading};
use crate::logic::filters::encode_component;

/// Largest decompressed bundle the browser accepts (a zip bomb stops here).
pub const MAX_BUNDLE_BYTES: u64 = 256 << 20;

/// A run's summary and its parsed bundle.
#[derive(Clone)]
struct LoadedRun {
    detail: RunDetail,
    bundle: Arc<Bundle>,
}

async fn load(uuid: String) -> Result<LoadedRun, ApiFailure> {
    let detail: RunDetail =
        get_json(&format!(crate::api!("/runs/{}"), encode_component(&uuid))).await?;
    let bytes = get_bytes(&detail.bundle_url).await?;
    mark_data_arrived();
    // The server validated the bundle when it was submitted; read it as stored.
    let options = ReadOptions { max_decompressed_bytes: MAX_BUNDLE_BYTES, validate: false };
    let bundle = Bundle::from_slice_with(&bytes, &options).map_err(|e| {
        ApiFailure::Decode(format!("the run's bundle ({}): {e}", detail.bundle_url))
    })?;
    crate::components::run_view::mark("pgfarm:parsed");
    Ok(LoadedRun { detail, bundle: Arc::new(bundle) })
}

/// `/runs/:uuid`.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let uuid = move || params.with(|p| p.get("uuid").unwrap_or_default());
    let run = LocalResource::new(move || load(uuid()));
    view! {
        <section class="page" data-page="run">
            {move || match run.get() {
                None => view! { <Loading what="run"/> }.into_any(),
                Some(Err(failure)) => {
                    set_title("Run");
                    view! {
                        <h1>"Run " {uuid()}</h1>
                        <ErrorState failure=failure/>
                    }
                        .into_any()
                }
                Some(Ok(loaded)) => {
                    let summary = &loaded.detail.run;
                    set_title(&format!(
                        "{} {} on PostgreSQL {}",
                        summary.extension,
                        summary.version,
                        summary.pg_version,
                    ));
                    view! { <RunView bundle=loaded.bundle.clone() detail=loaded.detail.clone()/> }
                        .into_any()
                }
            }}
        </section>
    }
}
