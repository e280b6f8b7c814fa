//! Runs every procedure scenario under `tests/scenarios/` against the real server,
//! once on SQLite and once on PostgreSQL (the runner is `motcua_e2e::scenarios`).

use motcua_e2e::{Backend, TestServer, scenarios};

async fn run_all(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    scenarios::prepare(&server).await;
    let played = scenarios::run_all(&server).await;
    assert!(!played.is_empty(), "no scenario filed a dossier");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_sqlite() {
    run_all(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_postgres() {
    run_all(Backend::Postgres).await;
}
