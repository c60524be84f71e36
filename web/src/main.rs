//! Entry point of the dashboard's wasm binary: mounts [`pgfarm_web::App`] on the page body.

fn main() {
    pgfarm_web::start();
}
