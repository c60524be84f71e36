//! Admin: machines pending approval, approved or rejected with the admin token (kept in
//! sessionStorage for this tab, never in the URL); the secret an approval returns is shown once.

use leptos::prelude::*;
use leptos::task::spawn_local;
use pgfarm_model::api::{Machine, MachineSecret, MachineState};

use crate::api::{ApiFailure, get_json, post_empty, segment};
use crate::components::remote::{RelativeTime, Remote, remote_view, set_title};
use crate::components::states::{Empty, ErrorState};
use crate::pages::extension::select_all;

/// sessionStorage key of the admin token.
const TOKEN_KEY: &str = "pgfarm-admin-token";

fn stored_token() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|window| window.session_storage().ok().flatten())
            .and_then(|storage| storage.get_item(TOKEN_KEY).ok().flatten())
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = TOKEN_KEY;
        String::new()
    }
}

fn store_token(token: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(storage) =
        web_sys::window().and_then(|window| window.session_storage().ok().flatten())
    {
        let _ = if token.is_empty() {
            storage.remove_item(TOKEN_KEY)
        } else {
            storage.set_item(TOKEN_KEY, token)
        };
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = token;
}

/// What the last admin action gave.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// An approval: the secret, to show once.
    Secret(MachineSecret),
    /// Another action succeeded.
    Done(String),
    /// The server refused or could not be reached.
    Failed(ApiFailure),
}

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    set_title("Admin");
    let token = RwSignal::new(stored_token());
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let reload = RwSignal::new(0_u32);
    let machines: Remote<Vec<Machine>> = LocalResource::new(move || {
        reload.track();
        async { get_json::<Vec<Machine>>(crate::api!("/machines")).await }
    });
    let act = move |name: String, action: &'static str| {
        let bearer = token.get_untracked();
        busy.set(true);
        outcome.set(None);
        spawn_local(async move {
            let path = format!(crate::api!("/admin/machines/{}/{}"), segment(&name), action);
            let result = post_empty::<serde_json::Value>(&path, Some(&bearer)).await;
            let next = match result {
                Err(failure) => Outcome::Failed(failure),
                Ok(body) => match serde_json::from_value::<MachineSecret>(body) {
                    Ok(secret) => Outcome::Secret(secret),
                    Err(_) => Outcome::Done(format!("{name}: {action} done.")),
                },
            };
            outcome.set(Some(next));
            busy.set(false);
            reload.update(|n| *n += 1);
        });
    };
    let outcome_view = move || {
        outcome.get().map(|last| match last {
            Outcome::Failed(failure) => {
                view! { <ErrorState failure=failure title="The server refused this action."/> }
                    .into_any()
            }
            Outcome::Done(message) => {
                view! { <p class="state state-done" role="status">{message}</p> }.into_any()
            }
            Outcome::Secret(secret) => view! {
                <div class="secret-once" role="status">
                    <p>
                        <strong>{format!("{} is approved.", secret.name)}</strong>
                        " Its secret is shown this once: copy it now into the machine's "
                        <code>"PGFARM_MACHINE_SECRET"</code>
                        " or its credentials file (mode 0600)."
                    </p>
                    <label>
                        "Secret (selects itself: copy with Ctrl+C)"
                        <input
                            type="text"
                            readonly
                            data-testid="machine-secret"
                            value=secret.secret
                            on:focus=select_all
                        />
                    </label>
                    <button type="button" on:click=move |_| outcome.set(None)>
                        "I have copied it: hide"
                    </button>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <section class="page" data-page="admin">
            <h1>"Admin"</h1>
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <label class="filter">
                    <span class="filter-label">"Admin token"</span>
                    <input
                        type="password"
                        name="admin-token"
                        autocomplete="off"
                        data-testid="admin-token"
                        prop:value=move || token.get()
                        on:input=move |ev| {
                            let value = event_target_value(&ev).trim().to_owned();
                            store_token(&value);
                            token.set(value);
                        }
                    />
                </label>
                <button
                    type="button"
                    on:click=move |_| {
                        store_token("");
                        token.set(String::new());
                    }
                >
                    "Forget the token"
                </button>
            </form>
            <p class="muted">
                "The token stays in this tab's session storage and is sent only as a bearer header."
            </p>
            {outcome_view}
            <h2>"Machines waiting for approval"</h2>
            {remote_view(
                machines,
                "machines",
                move |machines: Vec<Machine>| {
                    let pending: Vec<Machine> = machines
                        .into_iter()
                        .filter(|machine| machine.state == MachineState::Pending)
                        .collect();
                    if pending.is_empty() {
                        return view! { <Empty message="No machine is waiting for approval."/> }
                            .into_any();
                    }
                    let rows = pending
                        .into_iter()
                        .map(|machine| {
                            let approve_name = machine.name.clone();
                            let reject_name = machine.name.clone();
                            let key = machine.name.clone();
                            let disabled = move || busy.get() || token.get().is_empty();
                            view! {
                                <tr data-machine=key>
                                    <th scope="row">{machine.name}</th>
                                    <td>{format!("{}/{}", machine.os, machine.arch)}</td>
                                    <td>{machine.compiler}</td>
                                    <td class="description">{machine.description}</td>
                                    <td>
                                        <RelativeTime when=Some(machine.created_at)/>
                                    </td>
                                    <td class="actions">
                                        <button
                                            type="button"
                                            data-action="approve"
                                            disabled=disabled
                                            on:click=move |_| act(approve_name.clone(), "approve")
                                        >
                                            "Approve"
                                        </button>
                                        <button
                                            type="button"
                                            data-action="reject"
                                            disabled=disabled
                                            on:click=move |_| act(reject_name.clone(), "reject")
                                        >
                                            "Reject"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <p class="muted">
                            {move || {
                                if token.get().is_empty() {
                                    "Enter the admin token to approve or reject."
                                } else {
                                    ""
                                }
                            }}
                        </p>
                        <div class="table-scroll">
                            <table class="pending">
                                <thead>
                                    <tr>
                                        <th scope="col">"Machine"</th>
                                        <th scope="col">"Platform"</th>
                                        <th scope="col">"Compiler"</th>
                                        <th scope="col">"Description"</th>
                                        <th scope="col">"Registered"</th>
                                        <th scope="col">"Action"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                },
            )}
        </section>
    }
}
