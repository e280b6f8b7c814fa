//! The files of dossiers over HTTP, on both databases and both content stores (a
//! directory and S3): citizens and staff upload a declared component's bytes, staff of
//! the handling unit download them, the same bytes are stored once, every refusal (type,
//! size, digest, caps, an interrupted upload) leaves nothing behind, a stored object
//! damaged behind motcua's back is a named problem rather than wrong bytes, and the
//! electronic result reaches the citizen once the dossier is returned. The digitization
//! indicator follows the files: every required component and the issued result stored.

mod files;
mod http;
mod races;

use motcua_e2e::{Backend, Storage, TestServer, delete_object, overwrite_object, raw_keys};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use files::*;
use http::*;
use races::*;

pub(crate) const OFFICER: &str = "demo-xuan-hoa-officer";
const SPECIALIST: &str = "demo-xuan-hoa-specialist";
const LEADER: &str = "demo-xuan-hoa-leader";
/// Staff of another unit: the tenancy tests' stranger.
const STRANGER: &str = "demo-thanh-ba-officer";

/// The server's default caps (`--max-document-mib 20`, `--max-dossier-documents-mib 100`).
const MAX_FILE_BYTES: u64 = 20 << 20;
const MAX_DOSSIER_BYTES: u64 = 100 << 20;

/// The citizen (with the tracking secret) and the handling unit's staff upload; staff of
/// the handling unit download the same bytes; everyone else is refused, both ways.
async fn upload_and_download_within_the_handling_unit(backend: Backend, storage: Storage) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 08:00").await;
    let certificate = pdf("Giấy chứng sinh số 1234/GCS — upload and download");
    let id_card = jpeg("Căn cước công dân của mẹ — upload and download");
    let (certificate_sha, id_card_sha) = (sha256(&certificate), sha256(&id_card));
    let filed = server
        .file(None, &birth_with_scans(&certificate, &id_card))
        .await;
    let code = filed.code.as_str();
    let (version, digitized) = state_of(&server, code).await;
    assert_eq!(
        digitized,
        [false, false],
        "nothing stored yet, whatever the client said"
    );

    // Declared but not uploaded.
    download(
        &server,
        &document_path(code, &certificate_sha),
        Who::Staff(OFFICER),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "document-not-stored");

    // Nobody else may upload.
    let response = upload(&server, code, &certificate_sha, Who::Nobody, &certificate).await;
    refused(&response, StatusCode::UNAUTHORIZED, "unauthenticated");
    let response = upload(
        &server,
        code,
        &certificate_sha,
        Who::Staff(STRANGER),
        &certificate,
    )
    .await;
    refused(&response, StatusCode::FORBIDDEN, "forbidden");
    let response = upload(
        &server,
        code,
        &certificate_sha,
        Who::Citizen("0000"),
        &certificate,
    )
    .await;
    refused(&response, StatusCode::NOT_FOUND, "dossier-not-found");
    assert!(
        raw_keys(&server.storage).await.is_empty(),
        "a refused upload stored bytes"
    );
    assert_eq!(state_of(&server, code).await, (version, vec![false, false]));

    // The citizen uploads the birth certificate with the tracking secret.
    let response = upload(
        &server,
        code,
        &certificate_sha,
        Who::Citizen(&filed.secret),
        &certificate,
    )
    .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(
        response.body,
        json!({
            "sha256": certificate_sha, "size": certificate.len(), "content_type": "application/pdf",
            "components": ["Giấy chứng sinh"],
        }),
        "a citizen is not told whether the bytes were stored before"
    );
    // Again: this dossier has it already.
    let again = upload(
        &server,
        code,
        &certificate_sha,
        Who::Citizen(&filed.secret),
        &certificate,
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["sha256"], certificate_sha.as_str());
    assert_eq!(again.body["components"], json!(["Giấy chứng sinh"]));

    // The officer uploads the scan of the ID card.
    let response = upload(&server, code, &id_card_sha, Who::Staff(OFFICER), &id_card).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["content_type"], "image/jpeg");
    assert_eq!(response.body["already_stored"], false);
    let keys = settle_keys(&server, 2).await;
    for sha in [&certificate_sha, &id_card_sha] {
        assert_eq!(
            keys.iter().filter(|key| key.contains(sha.as_str())).count(),
            1,
            "{keys:?}"
        );
    }

    // Staff of the handling unit download the bytes.
    for (sha, bytes, content_type) in [
        (&certificate_sha, &certificate, "application/pdf"),
        (&id_card_sha, &id_card, "image/jpeg"),
    ] {
        let path = document_path(code, sha);
        let got = download(&server, &path, Who::Staff(SPECIALIST)).await;
        assert_eq!(got.status, StatusCode::OK, "{got:?}");
        assert_eq!(&got.bytes, bytes, "the bytes uploaded");
        assert_eq!(got.content_type, content_type);
        assert_eq!(got.etag, format!("\"{sha}\""));
        assert!(got.disposition.starts_with("attachment"), "{got:?}");

        download(&server, &path, Who::Staff(STRANGER))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        download(&server, &path, Who::Citizen(&filed.secret))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        download(&server, &path, Who::Nobody)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    }

    // The staff view says what is stored; each new file is an audited event.
    let view = server.dossier(OFFICER, code).await;
    let documents = view["documents"].as_array().expect("documents");
    assert_eq!(documents[0]["digitized"], true);
    assert_eq!(documents[0]["content_type"], "application/pdf");
    assert_eq!(documents[1]["digitized"], true);
    assert_eq!(documents[1]["content_type"], "image/jpeg");
    let attached = events(&server, code, "attach-document").await;
    assert_eq!(
        attached.len(),
        2,
        "one event per newly attached file: {attached:?}"
    );
    assert_eq!(attached[0]["payload"]["sha256"], certificate_sha.as_str());
    assert_eq!(attached[0]["payload"]["size"], certificate.len());
    assert_eq!(attached[0]["payload"]["content_type"], "application/pdf");
    assert_eq!(attached[1]["payload"]["sha256"], id_card_sha.as_str());
    assert_eq!(attached[1]["actor"]["role"], "officer");
    let audit = server
        .get(&format!("/api/v1/dossiers/{code}/audit"), Some(OFFICER))
        .await;
    assert_eq!(audit.body["valid"], true, "{}", audit.body);
    server.finish().await;
}

/// The same bytes declared by three dossiers, and twice within one, are stored once.
/// Staff are told the bytes were already stored; a citizen is not, since it would say
/// that someone else filed the same file.
async fn the_same_bytes_are_stored_once(backend: Backend, storage: Storage) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 08:00").await;
    // A scan of a few hundred KiB, so the upload streams in many chunks.
    let id_card = large_pdf("Căn cước công dân của mẹ — stored once", 600 << 10);
    let id_sha = sha256(&id_card);
    let certificates: Vec<Vec<u8>> = (1..=3)
        .map(|child| {
            png(&format!(
                "Giấy chứng sinh của con thứ {child} — stored once"
            ))
        })
        .collect();
    let mut dossiers = Vec::new();
    for (index, certificate) in certificates.iter().enumerate() {
        let mut documents = vec![
            component("hospital-birth-certificate", "Giấy chứng sinh", certificate),
            component("citizen-id-card", "Căn cước công dân của mẹ", &id_card),
        ];
        if index == 0 {
            // The same scan filed again as the proof of the marriage: one file.
            documents.push(component(
                "marriage-certificate",
                "Bản sao kèm căn cước",
                &id_card,
            ));
        }
        dossiers.push(server.file(None, &birth("xuan-hoa", documents)).await);
    }
    let [first, second, third] = &dossiers[..] else {
        unreachable!("three dossiers filed")
    };

    // The officer uploads it for the first dossier: new to the store.
    let response = upload(&server, &first.code, &id_sha, Who::Staff(OFFICER), &id_card).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["already_stored"], false);
    assert_eq!(
        response.body["components"],
        json!(["Căn cước công dân của mẹ", "Bản sao kèm căn cước"]),
        "every component declaring the file"
    );
    assert_eq!(state_of(&server, &first.code).await.1, [false, true, true]);

    // The second citizen uploads the same bytes and is not told they were there.
    let response = upload(
        &server,
        &second.code,
        &id_sha,
        Who::Citizen(&second.secret),
        &id_card,
    )
    .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(
        response.body,
        json!({
            "sha256": id_sha, "size": id_card.len(), "content_type": "application/pdf",
            "components": ["Căn cước công dân của mẹ"],
        })
    );

    // Staff are.
    let response = upload(&server, &third.code, &id_sha, Who::Staff(OFFICER), &id_card).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(
        response.body["already_stored"], true,
        "another dossier stored it"
    );
    let keys = settle_keys(&server, 1).await;
    assert!(keys[0].contains(&id_sha), "{keys:?}");

    for filed in &dossiers {
        let code = &filed.code;
        let got = download(&server, &document_path(code, &id_sha), Who::Staff(OFFICER)).await;
        assert_eq!(got.status, StatusCode::OK, "{got:?}");
        assert!(got.bytes == id_card, "{code}: the bytes uploaded");
        assert_eq!(
            events(&server, code, "attach-document").await.len(),
            1,
            "{code}"
        );
    }
    // A file one dossier declares is not another's to upload.
    let response = upload(
        &server,
        &second.code,
        &sha256(&certificates[0]),
        Who::Staff(OFFICER),
        &certificates[0],
    )
    .await;
    refused(&response, StatusCode::NOT_FOUND, "document-not-declared");
    server.finish().await;
}

/// A file of the wrong type, size or digest, over the caps, or cut short is refused with
/// its named problem, and leaves no object and an unchanged dossier.
async fn refused_uploads_leave_nothing(backend: Backend, storage: Storage) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 08:00").await;
    let certificate = pdf("Giấy chứng sinh — refused uploads");
    let animation = gif("Ảnh động — refused uploads");
    let note = b"Ghi chu viet tay, khong phai ban chup".to_vec();
    // A 9 MiB scan: more than one part of a multipart write (8 MiB) arrives before the
    // interrupted upload is cut.
    let scan = large_pdf("Căn cước công dân của mẹ — refused uploads", 9 << 20);
    let filed = server
        .file(
            None,
            &birth(
                "xuan-hoa",
                vec![
                    component(
                        "hospital-birth-certificate",
                        "Giấy chứng sinh",
                        &certificate,
                    ),
                    component("citizen-id-card", "Căn cước công dân của mẹ", &scan),
                    component("marriage-certificate", "Ảnh giấy kết hôn", &animation),
                    component("marriage-certificate", "Ghi chú", &note),
                ],
            ),
        )
        .await;
    let code = filed.code.as_str();
    let before = state_of(&server, code).await;
    let secret = Who::Citizen(&filed.secret);

    // A type the server does not accept, recognised from the bytes.
    let response = upload(&server, code, &sha256(&animation), secret, &animation).await;
    let problem = refused(
        &response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-document-type",
    );
    assert_eq!(
        problem["allowed"],
        json!(["application/pdf", "image/jpeg", "image/png"]),
        "{problem}"
    );
    let response = upload(&server, code, &sha256(&note), secret, &note).await;
    refused(
        &response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-document-type",
    );

    // Fewer bytes than declared.
    let response = upload(
        &server,
        code,
        &sha256(&certificate),
        secret,
        &certificate[..certificate.len() - 1],
    )
    .await;
    refused(
        &response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "document-size-mismatch",
    );
    // The declared size, other bytes.
    let mut tampered = certificate.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 0x20;
    let response = upload(&server, code, &sha256(&certificate), secret, &tampered).await;
    refused(
        &response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "document-digest-mismatch",
    );
    // Bytes no component declares.
    let stray = pdf("Giấy tờ không khai — refused uploads");
    let response = upload(&server, code, &sha256(&stray), secret, &stray).await;
    refused(&response, StatusCode::NOT_FOUND, "document-not-declared");

    // Over the per-file cap, refused on its Content-Length before the body is read.
    let mut stream = put_head(
        &server,
        &document_path(code, &sha256(&certificate)),
        OFFICER,
        Some(MAX_FILE_BYTES + 1),
    )
    .await;
    read_response(&mut stream)
        .await
        .expect("a refusal while the body is unsent")
        .problem(413, "document-too-large");
    drop(stream);

    // Cut short: 8.5 MiB of the 9, then the client hangs up.
    let mut stream = put_head(
        &server,
        &document_path(code, &sha256(&scan)),
        OFFICER,
        Some(scan.len() as u64),
    )
    .await;
    stream
        .write_all(&scan[..scan.len() - (512 << 10)])
        .await
        .expect("most of the body");
    stream.flush().await.expect("flush");
    // The upload is under way in the store (a staging file, a pending multipart upload).
    let in_progress = wait_for_keys(&server).await;
    stream.shutdown().await.expect("close the sending side");
    // The server answers on the half still open, once the upload is abandoned.
    read_response(&mut stream)
        .await
        .expect("an answer to the cut upload")
        .problem(400, "upload-interrupted");
    drop(stream);
    let left = raw_keys(&server.storage).await;
    assert!(
        left.is_empty(),
        "the cut upload left {left:?} (under way: {in_progress:?})"
    );

    settle_keys(&server, 0).await;
    assert_eq!(
        state_of(&server, code).await,
        before,
        "a refusal changed the dossier"
    );
    assert_eq!(digitization(&server, OFFICER, "2026-03-02").await, [0, 1]);
    assert!(events(&server, code, "attach-document").await.is_empty());

    // The interrupted file uploads whole afterwards: nothing of the first try was kept
    // under its address, and no staging leftovers remain.
    let response = upload(&server, code, &sha256(&scan), Who::Staff(OFFICER), &scan).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(
        response.body["already_stored"], false,
        "half a file was kept"
    );
    assert_eq!(response.body["content_type"], "application/pdf");
    settle_keys(&server, 1).await;
    server.finish().await;
}

/// A declared size over the per-file cap, or distinct files adding up over the
/// per-dossier cap, refuse the filing (and an action's new components) and write nothing.
async fn declared_sizes_over_the_caps_are_refused(backend: Backend, storage: Storage) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 08:00").await;
    let certificate = pdf("Giấy chứng sinh — caps");
    let id_card = jpeg("Căn cước công dân — caps");
    let declared = |copy: usize, sha: &str, size: u64| json!({ "kind": "citizen-id-card", "name": format!("Căn cước công dân, bản {copy}"), "sha256": sha, "size": size });
    let before = server.row_counts().await;

    // One file over 20 MiB.
    let mut too_large = component(
        "hospital-birth-certificate",
        "Giấy chứng sinh",
        &certificate,
    );
    too_large["size"] = json!(MAX_FILE_BYTES + 1);
    let response = server
        .post(
            "/api/v1/dossiers",
            None,
            &birth(
                "xuan-hoa",
                vec![too_large, component("citizen-id-card", "CCCD", &id_card)],
            ),
        )
        .await;
    refused(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "document-too-large",
    );

    // Six distinct files of 18 MiB: 108 MiB, over the 100 MiB of one dossier.
    let size = 18 << 20;
    assert!(6 * size > MAX_DOSSIER_BYTES && size <= MAX_FILE_BYTES);
    let mut documents = vec![component(
        "hospital-birth-certificate",
        "Giấy chứng sinh",
        &certificate,
    )];
    for copy in 0..6 {
        documents.push(declared(
            copy,
            &sha256(format!("bản sao {copy}").as_bytes()),
            size,
        ));
    }
    let response = server
        .post("/api/v1/dossiers", None, &birth("xuan-hoa", documents))
        .await;
    let problem = refused(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "dossier-documents-too-large",
    );
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        server.row_counts().await,
        before,
        "a refused filing wrote rows"
    );

    // The same 18 MiB file declared six times is one file: accepted.
    let shared = sha256(b"one scan, filed six times");
    let mut documents = vec![component(
        "hospital-birth-certificate",
        "Giấy chứng sinh",
        &certificate,
    )];
    for copy in 0..6 {
        documents.push(declared(copy, &shared, size));
    }
    let filed = server.file(None, &birth("xuan-hoa", documents)).await;

    // An action's new components count with the dossier's: 18 MiB declared plus 5 × 18
    // MiB more is over.
    server.set_time("2026-03-02 08:30");
    server.act_ok(OFFICER, &filed.code, "request-supplement", json!({
        "items": [ { "target": "documents.parent-id", "message": "Bản chụp căn cước bị mờ" } ]
    })).await;
    let before = server.row_counts().await;
    let version = server.version(OFFICER, &filed.code).await;
    let more: Vec<Value> = (0..5)
        .map(|copy| {
            declared(
                copy,
                &sha256(format!("bản bổ sung {copy}").as_bytes()),
                size,
            )
        })
        .collect();
    let response = server
        .act_as_citizen(
            &filed.secret,
            &filed.code,
            "complete-supplement",
            json!({ "documents": more }),
        )
        .await;
    refused(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "dossier-documents-too-large",
    );
    // The shared file again, declared small: one file has one size, or the small
    // declaration would hide the large one from the dossier's cap.
    let response = server
        .act_as_citizen(
            &filed.secret,
            &filed.code,
            "complete-supplement",
            json!({ "documents": [declared(7, &shared, 1)] }),
        )
        .await;
    refused(
        &response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "document-size-conflict",
    );
    let one_too_large = declared(9, &sha256("bản bổ sung lớn".as_bytes()), MAX_FILE_BYTES + 1);
    let response = server
        .act_as_citizen(
            &filed.secret,
            &filed.code,
            "complete-supplement",
            json!({ "documents": [one_too_large] }),
        )
        .await;
    refused(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "document-too-large",
    );
    assert_eq!(
        server.row_counts().await,
        before,
        "a refused action wrote rows"
    );
    assert_eq!(server.version(OFFICER, &filed.code).await, version);
    assert!(raw_keys(&server.storage).await.is_empty());
    server.finish().await;
}

/// A stored object overwritten or deleted behind motcua's back is a named 503 on
/// read, never other bytes.
async fn damaged_objects_are_named_on_read(backend: Backend, storage: Storage) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 08:00").await;
    let certificate = pdf("Giấy chứng sinh — damaged");
    let id_card = png("Căn cước công dân của mẹ — damaged");
    let filed = server
        .file(None, &birth_with_scans(&certificate, &id_card))
        .await;
    let code = filed.code.as_str();
    for bytes in [&certificate, &id_card] {
        let response = upload(&server, code, &sha256(bytes), Who::Staff(OFFICER), bytes).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    }

    // Bit rot: one byte of the certificate changes, its length does not.
    let mut rotten = certificate.clone();
    rotten[20] ^= 0x01;
    overwrite_object(&server.storage, &sha256(&certificate), &rotten).await;
    let got = download(
        &server,
        &document_path(code, &sha256(&certificate)),
        Who::Staff(OFFICER),
    )
    .await;
    let problem = got.problem(StatusCode::SERVICE_UNAVAILABLE, "document-corrupt");
    assert!(
        got.bytes != rotten && got.bytes != certificate,
        "served bytes: {problem}"
    );

    // The ID card's object is gone.
    delete_object(&server.storage, &sha256(&id_card)).await;
    let got = download(
        &server,
        &document_path(code, &sha256(&id_card)),
        Who::Staff(OFFICER),
    )
    .await;
    got.problem(StatusCode::SERVICE_UNAVAILABLE, "document-missing");

    server.finish().await;
}

/// The electronic result: attached by a specialist or leader once issued, downloaded by
/// the citizen once returned; the tracking view says when it is ready. The dossier
/// counts as digitized when every required component and, once issued, the result have
/// their files.
async fn the_citizen_downloads_the_electronic_result(backend: Backend, storage: Storage) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 08:00").await;
    let day = "2026-03-02";
    let certificate = pdf("Giấy chứng sinh số 0042/GCS — result");
    let id_card = png("Căn cước công dân của mẹ — result");
    let marriage = pdf("Giấy chứng nhận kết hôn — result");
    let filed = server
        .file(
            None,
            &birth(
                "xuan-hoa",
                vec![
                    component(
                        "hospital-birth-certificate",
                        "Giấy chứng sinh",
                        &certificate,
                    ),
                    component("citizen-id-card", "Căn cước công dân của mẹ", &id_card),
                    // Optional: never uploaded, it does not hold digitization back.
                    component("marriage-certificate", "Giấy chứng nhận kết hôn", &marriage),
                ],
            ),
        )
        .await;
    let code = filed.code.as_str();
    let secret = Who::Citizen(&filed.secret);
    assert_eq!(digitization(&server, OFFICER, day).await, [0, 1]);

    let response = upload(&server, code, &sha256(&id_card), secret, &id_card).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["content_type"], "image/png");
    assert_eq!(
        digitization(&server, OFFICER, day).await,
        [0, 1],
        "the birth proof is required and not stored"
    );
    let response = upload(&server, code, &sha256(&certificate), secret, &certificate).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(
        digitization(&server, OFFICER, day).await,
        [1, 1],
        "every required component is stored; the optional one need not be"
    );

    let result = pdf("Giấy khai sinh KS — result");
    let result_path = format!("/api/v1/dossiers/{code}/result");
    // No result issued yet.
    refused(
        &attach_result(&server, code, LEADER, &result).await,
        StatusCode::CONFLICT,
        "no-result",
    );

    server.set_time("2026-03-02 09:00");
    server.act_ok(OFFICER, code, "receive", json!({})).await;
    server
        .act_ok(SPECIALIST, code, "submit-for-signing", json!({}))
        .await;
    server.set_time("2026-03-02 10:00");
    server.act_ok(LEADER, code, "sign", json!({})).await;
    assert_eq!(
        digitization(&server, OFFICER, day).await,
        [0, 1],
        "the result is issued and its file is not stored"
    );
    let tracked = server.track(code, &filed.secret).await;
    assert_eq!(tracked.status, StatusCode::OK, "{}", tracked.body);
    assert_eq!(tracked.body["result"]["kind"], "birth-certificate");
    assert_eq!(tracked.body["result"]["file"], Value::Null);
    assert_eq!(tracked.body["result"]["download"], Value::Null);
    download(&server, &result_path, secret)
        .await
        .problem(StatusCode::CONFLICT, "result-not-ready");

    // Only a specialist or leader attaches it, with a Content-Length.
    refused(
        &attach_result(&server, code, OFFICER, &result).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let mut stream = put_head(
        &server,
        &format!("{result_path}/{}", sha256(&result)),
        LEADER,
        None,
    )
    .await;
    let mut chunked = format!("{:x}\r\n", result.len()).into_bytes();
    chunked.extend_from_slice(&result);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    stream.write_all(&chunked).await.expect("chunked body");
    let raw = read_response(&mut stream).await.expect("a refusal");
    assert_eq!(raw.status, 411, "{raw:?}");
    assert!(
        raw.head.contains("content-type: application/problem+json"),
        "{raw:?}"
    );
    drop(stream);
    assert_eq!(
        raw_keys(&server.storage).await.len(),
        2,
        "refused results stored nothing"
    );

    server.set_time("2026-03-02 10:30");
    let response = attach_result(&server, code, LEADER, &result).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(
        response.body,
        json!({
            "sha256": sha256(&result), "size": result.len(), "content_type": "application/pdf",
            "already_stored": false,
        })
    );
    let again = attach_result(&server, code, SPECIALIST, &result).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let other = pdf("Giấy khai sinh in lại — result");
    refused(
        &attach_result(&server, code, LEADER, &other).await,
        StatusCode::CONFLICT,
        "result-file-attached",
    );
    assert_eq!(digitization(&server, OFFICER, day).await, [1, 1]);
    let attached = events(&server, code, "attach-result").await;
    assert_eq!(attached.len(), 1, "{attached:?}");
    assert_eq!(attached[0]["payload"]["sha256"], sha256(&result).as_str());
    assert_eq!(attached[0]["payload"]["size"], result.len());
    assert_eq!(attached[0]["payload"]["content_type"], "application/pdf");

    // Staff read it once attached; the citizen only once it is returned.
    let got = download(&server, &result_path, Who::Staff(OFFICER)).await;
    assert_eq!(got.status, StatusCode::OK, "{got:?}");
    assert!(got.bytes == result);
    download(&server, &result_path, Who::Staff(STRANGER))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let tracked = server.track(code, &filed.secret).await;
    assert_eq!(
        tracked.body["result"]["file"],
        json!({ "sha256": sha256(&result), "size": result.len(), "content_type": "application/pdf" })
    );
    assert_eq!(
        tracked.body["result"]["download"],
        Value::Null,
        "not returned yet"
    );
    assert_eq!(tracked.body["result"]["ready_to_download"], false);
    download(&server, &result_path, secret)
        .await
        .problem(StatusCode::CONFLICT, "result-not-ready");

    server.set_time("2026-03-02 14:00");
    server
        .act_ok(OFFICER, code, "return-result", json!({}))
        .await;
    let tracked = server.track(code, &filed.secret).await;
    assert_eq!(tracked.body["status"]["code"], 10, "{}", tracked.body);
    assert_eq!(
        tracked.body["result"]["download"],
        result_path.as_str(),
        "ready to download"
    );
    assert_eq!(tracked.body["result"]["ready_to_download"], true);
    // The citizen's status history is the dossier's steps, not its files.
    let history = tracked.body["history"].as_array().expect("history");
    let steps: Vec<&str> = history
        .iter()
        .map(|event| event["step"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        steps,
        ["submitted", "review", "signing", "settled", "returned"],
        "filed, received, submitted for signing, signed, returned; no file events"
    );
    let got = download(&server, &result_path, secret).await;
    assert_eq!(got.status, StatusCode::OK, "{got:?}");
    assert!(
        got.bytes == result,
        "the citizen gets the bytes the leader attached"
    );
    assert_eq!(got.content_type, "application/pdf");
    assert!(got.disposition.starts_with("attachment"), "{got:?}");
    download(&server, &result_path, Who::Citizen("0000"))
        .await
        .problem(StatusCode::NOT_FOUND, "dossier-not-found");
    download(&server, &result_path, Who::Nobody)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(digitization(&server, OFFICER, day).await, [1, 1]);
    assert_eq!(server.dossier(OFFICER, code).await["digitized"], true);

    // Returned without an electronic result (Thanh Ba handed over paper only).
    let other_unit = server
        .file(
            None,
            &birth(
                "thanh-ba",
                vec![
                    component(
                        "hospital-birth-certificate",
                        "Giấy chứng sinh",
                        &pdf("Thanh Ba — result"),
                    ),
                    component(
                        "citizen-id-card",
                        "Căn cước công dân của mẹ",
                        &jpeg("Thanh Ba — result"),
                    ),
                ],
            ),
        )
        .await;
    let tb = |role: &str| format!("demo-thanh-ba-{role}");
    server
        .act_ok(&tb("officer"), &other_unit.code, "receive", json!({}))
        .await;
    server
        .act_ok(
            &tb("specialist"),
            &other_unit.code,
            "submit-for-signing",
            json!({}),
        )
        .await;
    server
        .act_ok(&tb("leader"), &other_unit.code, "sign", json!({}))
        .await;
    server
        .act_ok(&tb("officer"), &other_unit.code, "return-result", json!({}))
        .await;
    let tracked = server.track(&other_unit.code, &other_unit.secret).await;
    assert_eq!(tracked.body["result"]["file"], Value::Null);
    assert_eq!(tracked.body["result"]["download"], Value::Null);
    download(
        &server,
        &format!("/api/v1/dossiers/{}/result", other_unit.code),
        Who::Citizen(&other_unit.secret),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "result-file-missing");
    // Neither its components nor its result are stored.
    assert_eq!(digitization(&server, &tb("officer"), day).await, [0, 1]);
    server.finish().await;
}

motcua_e2e::storages_and_backends!(
    upload_and_download_within_the_handling_unit,
    the_same_bytes_are_stored_once,
    refused_uploads_leave_nothing,
    declared_sizes_over_the_caps_are_refused,
    damaged_objects_are_named_on_read,
    the_citizen_downloads_the_electronic_result,
    parallel_uploads_are_all_recorded_once,
);
