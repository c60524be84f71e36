//! The app shell and the route table: one route per page, paths mirroring the API's.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Shell;
use crate::pages;

/// The whole dashboard: the shell (header, navigation, theme) around the routed page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Shell>
                <Routes fallback=|| view! { <pages::not_found::NotFoundPage/> }>
                    <Route path=path!("/") view=pages::overview::OverviewPage/>
                    <Route path=path!("/extensions") view=pages::extension::ExtensionsPage/>
                    <Route path=path!("/extensions/:extension") view=pages::extension::ExtensionPage/>
                    <Route
                        path=path!("/extensions/:extension/versions/:version")
                        view=pages::extension::ExtensionVersionPage
                    />
                    <Route
                        path=path!("/extensions/:extension/tests/:test/history")
                        view=pages::history::TestHistoryPage
                    />
                    <Route path=path!("/runs") view=pages::runs::RunsPage/>
                    <Route path=path!("/runs/:uuid") view=pages::run::RunPage/>
                    <Route path=path!("/failures") view=pages::failures::FailuresPage/>
                    <Route path=path!("/machines") view=pages::machine::MachinesPage/>
                    <Route path=path!("/machines/:name") view=pages::machine::MachinePage/>
                    <Route path=path!("/trends") view=pages::trends::TrendsPage/>
                    <Route path=path!("/users") view=pages::users::UsersPage/>
                    <Route path=path!("/users/:name") view=pages::users::UserPage/>
                    <Route path=path!("/view") view=pages::view::ViewPage/>
                    <Route path=path!("/admin") view=pages::admin::AdminPage/>
                </Routes>
            </Shell>
        </Router>
    }
}
