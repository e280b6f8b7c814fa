//! Uploads that race each other: every file is recorded once, none is lost.

use motcua_e2e::{Backend, Storage, TestServer};
use reqwest::StatusCode;

use crate::files::*;
use crate::http::*;

/// A browser sends a dossier's three files at once, twice over: every upload succeeds
/// (recording retries when another one moved the dossier), each file is recorded by
/// exactly one of them (201, its twin 200), and the dossier ends with every component
/// stored and one `attach-document` event per file.
pub(crate) async fn parallel_uploads_are_all_recorded_once(backend: Backend, storage: Storage) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 08:00").await;
    let files = [
        pdf("Giấy chứng sinh — parallel"),
        jpeg("Căn cước công dân — parallel"),
        png("Giấy kết hôn — parallel"),
    ];
    let filed = server
        .file(
            None,
            &birth(
                "xuan-hoa",
                vec![
                    component("hospital-birth-certificate", "Giấy chứng sinh", &files[0]),
                    component("citizen-id-card", "Căn cước công dân của mẹ", &files[1]),
                    component("marriage-certificate", "Giấy kết hôn", &files[2]),
                ],
            ),
        )
        .await;
    let code = filed.code.as_str();
    let uploads = files.iter().chain(files.iter()).map(|bytes| {
        let server = &server;
        let secret = filed.secret.as_str();
        async move {
            let response = upload(server, code, &sha256(bytes), Who::Citizen(secret), bytes).await;
            (sha256(bytes), response.status)
        }
    });
    let answers = futures::future::join_all(uploads).await;
    for file in &files {
        let mut statuses: Vec<StatusCode> = answers
            .iter()
            .filter(|(sha, _)| *sha == sha256(file))
            .map(|(_, status)| *status)
            .collect();
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CREATED],
            "one upload records the file, its twin finds it recorded: {answers:?}"
        );
    }
    let (version, digitized) = state_of(&server, code).await;
    assert_eq!(digitized, [true, true, true]);
    assert_eq!(version, 1 + 3, "one version per file recorded");
    assert_eq!(events(&server, code, "attach-document").await.len(), 3);
    server.finish().await;
}
