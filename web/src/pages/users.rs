//! PGXN users (authors) of the synced releases, and one user with their distributions and
//! releases, as PGXN Tester had.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use pgfarm_model::api::{UserDetail, UserSummary};

use crate::api::{get_json, segment};
use crate::components::releases::ReleasesTable;
use crate::components::remote::{Remote, remote_view, set_title};
use crate::components::states::Empty;

/// The users table.
#[component]
pub fn UsersTable(
    /// Users, by nickname.
    users: Vec<UserSummary>,
) -> impl IntoView {
    if users.is_empty() {
        return view! {
            <Empty message="No PGXN users yet: the server syncs them with `pgfarm-server pgxn sync` or `--pgxn-mirror`."/>
        }
        .into_any();
    }
    let rows = users
        .into_iter()
        .map(|user| {
            let href = format!("/users/{}", segment(&user.nickname));
            view! {
                <tr data-user=user.nickname.clone()>
                    <th scope="row">
                        <a href=href>{user.nickname.clone()}</a>
                    </th>
                    <td>{user.name}</td>
                    <td>{user.n_dists}</td>
                    <td>{user.n_releases}</td>
                    <td>
                        <a class="pgxn-link" href=user.pgxn_url rel="external noopener">
                            "PGXN"
                        </a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="users">
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Distributions"</th>
                        <th scope="col">"Releases"</th>
                        <th scope="col">"PGXN"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A user's distributions, each with its releases.
#[component]
pub fn UserDistributions(
    /// The user and their distributions.
    detail: UserDetail,
) -> impl IntoView {
    if detail.distributions.is_empty() {
        return view! { <Empty message="No synced release of this user."/> }.into_any();
    }
    detail
        .distributions
        .into_iter()
        .map(|dist| {
            let href = format!("/extensions/{}", segment(&dist.dist));
            view! {
                <section class="user-dist" data-dist=dist.dist.clone()>
                    <h2>
                        <a href=href>{dist.dist.clone()}</a>
                    </h2>
                    {dist.r#abstract.map(|text| view! { <p class="abstract">{text}</p> })}
                    <ReleasesTable releases=dist.releases/>
                </section>
            }
        })
        .collect_view()
        .into_any()
}

/// `/users`.
#[component]
pub fn UsersPage() -> impl IntoView {
    set_title("Authors");
    let users: Remote<Vec<UserSummary>> =
        LocalResource::new(|| async { get_json::<Vec<UserSummary>>(crate::api!("/users")).await });
    view! {
        <section class="page" data-page="users">
            <h1>"Authors"</h1>
            <p class="muted">"PGXN users who uploaded the releases this server synced."</p>
            {remote_view(users, "the authors", |users: Vec<UserSummary>| view! { <UsersTable users=users/> })}
        </section>
    }
}

/// `/users/:name`.
#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    Effect::new(move |_| set_title(&name.get()));
    let detail: Remote<UserDetail> = LocalResource::new(move || {
        let path = format!(crate::api!("/users/{}"), segment(&name.get()));
        async move { get_json::<UserDetail>(&path).await }
    });
    view! {
        <section class="page" data-page="user">
            {remote_view(
                detail,
                "the user",
                |detail: UserDetail| {
                    let user = detail.user.clone();
                    view! {
                        <h1>{format!("{} ({})", user.name, user.nickname)}</h1>
                        <p class="page-links">
                            {format!("{} distributions, {} releases · ", user.n_dists, user.n_releases)}
                            <a class="pgxn-link" href=user.pgxn_url rel="external noopener">
                                "PGXN profile"
                            </a>
                            {user.uri.map(|uri| {
                                view! {
                                    " · "
                                    <a href=uri rel="external noopener nofollow">
                                        "Home page"
                                    </a>
                                }
                            })}
                        </p>
                        <UserDistributions detail=detail/>
                    }
                },
            )}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use pgfarm_model::api::{UserDetail, UserDistribution, UserSummary};

    use super::{UserDistributions, UsersTable};
    use crate::components::releases::tests::release;

    fn user(nickname: &str) -> UserSummary {
        UserSummary {
            nickname: nickname.into(),
            name: format!("User {nickname}"),
            uri: None,
            pgxn_url: format!("https://pgxn.org/user/{nickname}/"),
            n_dists: 2,
            n_releases: 3,
        }
    }

    #[test]
    fn the_authors_page_lists_users_with_links() {
        let html = Owner::new()
            .with(|| view! { <UsersTable users=vec![user("theory"), user("ann")]/> }.to_html());
        assert!(html.contains("href=\"/users/theory\""), "{html}");
        assert!(html.contains("href=\"https://pgxn.org/user/ann/\""), "{html}");
        assert!(html.contains("User theory"), "{html}");
        let empty = Owner::new().with(|| view! { <UsersTable users=vec![]/> }.to_html());
        assert!(empty.contains("No PGXN users yet"), "{empty}");
    }

    #[test]
    fn a_user_page_shows_each_distribution_with_its_releases() {
        let detail = UserDetail {
            user: user("theory"),
            distributions: vec![
                UserDistribution {
                    dist: "pair".into(),
                    r#abstract: Some("A key/value pair data type".into()),
                    releases: vec![
                        release("pair", "0.1.7", "stable"),
                        release("pair", "0.1.6", "stable"),
                    ],
                },
                UserDistribution {
                    dist: "betaonly".into(),
                    r#abstract: None,
                    releases: vec![release("betaonly", "0.2.0-beta1", "testing")],
                },
            ],
        };
        let html =
            Owner::new().with(|| view! { <UserDistributions detail=detail.clone()/> }.to_html());
        assert!(
            html.contains("data-dist=\"pair\"") && html.contains("data-dist=\"betaonly\""),
            "{html}"
        );
        assert!(html.contains("href=\"/extensions/pair\""), "{html}");
        assert!(html.contains("data-release=\"pair/0.1.6\""), "{html}");
        assert!(html.contains("release-testing"), "{html}");
        assert!(html.contains("href=\"https://pgxn.org/dist/pair/0.1.7/\""), "{html}");
    }
}
