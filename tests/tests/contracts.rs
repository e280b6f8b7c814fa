//! Two contract versions on one server, and fee schedules shown, quoted and charged.
//!
//! - A build of contract 0.1.0 (`plugins/fixtures/contract-0-1`, its own 0.1.0 bindings,
//!   no SDK) and a build of 0.2.0 (the catalog's certified copies) are offered at one
//!   unit; a dossier of each goes from filing to returned, on both backends.
//! - The tiered fee of certified copies is shown by `GET /api/v1/procedures`, quoted by
//!   `POST /api/v1/procedures/{code}/fees/quote`, and requested by the plugin at receipt
//!   with the same amount, at each boundary of the schedule: the first tier, the next
//!   tier, the cap per copy, several copies.

use motcua_e2e::{Backend, TestServer, document};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PUBLISHER: &str = "demo-phu-tho-publisher";
const OFFICER: &str = "demo-xuan-hoa-officer";
const LEADER: &str = "demo-xuan-hoa-leader";
const COPIES: &str = "2.000908";
const RESIDENCE: &str = "fixture.residence";

fn applicant() -> Value {
    json!({ "full_name": "Nguyễn Thị Lan", "citizen_id": "025190001234", "phone": "0912345678" })
}

fn copies_filing(pages: u64, copies: u64) -> Value {
    json!({
        "procedure": COPIES,
        "receiving_unit": "xuan-hoa",
        "channel": "online",
        "applicant": applicant(),
        "form": { "document_title": "Bằng tốt nghiệp", "issued_by": "Trường Đại học Hùng Vương", "pages": pages, "copies": copies },
        "documents": [
            document("original-document", "Bản chính"),
            document("citizen-id-card", "CCCD"),
        ],
    })
}

fn offered<'a>(procedures: &'a Value, code: &str) -> &'a Value {
    procedures["procedures"]
        .as_array()
        .expect("procedures")
        .iter()
        .find(|procedure| procedure["code"] == code)
        .unwrap_or_else(|| panic!("{code} is not offered: {procedures}"))
}

#[tokio::test]
async fn builds_of_both_contract_versions_serve_dossiers_side_by_side() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let server = TestServer::start(backend, "2026-03-02 08:00").await;
        let published = server
            .post_bytes(
                "/api/v1/plugins",
                PUBLISHER,
                motcua_e2e::plugin_bytes("fixture_contract_0_1"),
            )
            .await;
        assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
        assert_eq!(published.body["contract"], "0.1.0");
        server
            .pilot(
                "fixture_contract_0_1",
                &["xuan-hoa"],
                "2026-03-02T08:00:00+07:00",
            )
            .await;

        // The catalog tells the versions apart and shows each fee in its own terms.
        let catalog = server.get("/api/v1/plugins", None).await.body;
        let contract_of = |code: &str| {
            catalog["plugins"]
                .as_array()
                .unwrap()
                .iter()
                .find(|build| build["plugin"] == code)
                .map(|build| build["contract"].clone())
        };
        assert_eq!(contract_of(RESIDENCE), Some(json!("0.1.0")));
        assert_eq!(contract_of(COPIES), Some(json!("0.2.0")));
        let procedures = server
            .get("/api/v1/procedures?unit=xuan-hoa", None)
            .await
            .body;
        let residence = offered(&procedures, RESIDENCE);
        assert_eq!(residence["build"]["contract"], "0.1.0");
        assert_eq!(residence["fees"][0]["amount_vnd"], 10_000);
        assert_eq!(
            residence["fees"][0]["schedule"]["price"],
            json!({ "kind": "flat", "amount_vnd": 10_000 })
        );
        let copies = offered(&procedures, COPIES);
        assert_eq!(copies["build"]["contract"], "0.2.0");
        assert_eq!(copies["fees"][0]["amount_vnd"], Value::Null);

        // A 0.1.0 dossier, filed to returned: its plugin asks for its flat fee, refuses
        // to sign until it is paid, and issues its result.
        let residence = server
            .file(
                None,
                &json!({
                    "procedure": RESIDENCE,
                    "receiving_unit": "xuan-hoa",
                    "channel": "online",
                    "applicant": applicant(),
                    "form": { "address": "Số 12 đường Hùng Vương" },
                    "documents": [],
                }),
            )
            .await;
        // A 0.2.0 dossier, interleaved with it.
        let certified = server.file(None, &copies_filing(3, 2)).await;
        let view = server
            .act_ok(OFFICER, &residence.code, "receive", json!({}))
            .await;
        assert_eq!(view["fees"]["requested_vnd"], 10_000, "{view}");
        let view = server
            .act_ok(OFFICER, &certified.code, "receive", json!({}))
            .await;
        assert_eq!(view["fees"]["requested_vnd"], 10_000, "{view}");
        let unpaid = server
            .act(LEADER, &residence.code, "sign", "", json!({}))
            .await;
        assert_eq!(
            unpaid.problem(StatusCode::UNPROCESSABLE_ENTITY)["code"],
            "fee-unpaid",
            "{}",
            unpaid.body
        );
        server
            .act_ok(OFFICER, &residence.code, "record-payment", json!({}))
            .await;
        server
            .act_ok(
                OFFICER,
                &certified.code,
                "record-payment",
                json!({ "online": false, "receipt": "BL-0001" }),
            )
            .await;
        let view = server
            .act_ok(LEADER, &residence.code, "sign", json!({}))
            .await;
        assert_eq!(view["status"]["name"], "settled", "{view}");
        let view = server
            .act_ok(LEADER, &certified.code, "certify", json!({}))
            .await;
        assert_eq!(view["status"]["name"], "settled", "{view}");
        for code in [&residence.code, &certified.code] {
            let view = server
                .act_ok(OFFICER, code, "return-result", json!({}))
                .await;
            assert_eq!(view["status"]["name"], "returned", "{view}");
        }
        server.finish().await;
    }
}

#[tokio::test]
async fn a_tiered_fee_is_shown_quoted_and_charged_alike_at_its_boundaries() {
    let server = TestServer::start(Backend::Sqlite, "2026-03-02 08:00").await;
    let procedures = server
        .get("/api/v1/procedures?unit=xuan-hoa", None)
        .await
        .body;
    let fee = &offered(&procedures, COPIES)["fees"][0];
    assert_eq!(fee["code"], "certification");
    assert_eq!(
        fee["schedule"],
        json!({
            "price": {
                "kind": "tiered",
                "quantity": { "field": "/pages", "unit": "trang" },
                "tiers": [ { "starts_at": 1, "amount_vnd": 2_000 }, { "starts_at": 3, "amount_vnd": 1_000 } ],
            },
            "cap_per_item_vnd": 200_000,
            "items": { "field": "/copies", "unit": "bản" },
            "exemptions": [],
        })
    );

    // (pages, copies, what the law gives): the first tier, its last page, the next
    // tier's first page, the page that reaches the cap, past the cap, several copies.
    let cases = [
        (1, 1, 2_000),
        (2, 1, 4_000),
        (3, 1, 5_000),
        (198, 1, 200_000),
        (199, 1, 200_000),
        (3, 3, 15_000),
        (500, 2, 400_000),
    ];
    for (pages, copies, expected) in cases {
        let filing = copies_filing(pages, copies);
        let quote = server
            .post(
                &format!("/api/v1/procedures/{COPIES}/fees/quote"),
                None,
                &json!({ "unit": "xuan-hoa", "form": filing["form"] }),
            )
            .await;
        assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
        assert_eq!(
            quote.body["total_vnd"], expected,
            "quote for {pages} pages x {copies}: {}",
            quote.body
        );
        assert_eq!(quote.body["build"]["contract"], "0.2.0");
        assert_eq!(quote.body["complete"], true);
        let filed = server.file(None, &filing).await;
        let view = server
            .act_ok(OFFICER, &filed.code, "receive", json!({}))
            .await;
        assert_eq!(
            view["fees"]["requested_vnd"], expected,
            "requested by the plugin for {pages} pages x {copies}: {view}"
        );
    }

    // A form without the count the schedule reads cannot be quoted, and says why.
    let quote = server
        .post(
            &format!("/api/v1/procedures/{COPIES}/fees/quote"),
            None,
            &json!({ "unit": "xuan-hoa", "form": { "copies": 2 } }),
        )
        .await;
    let problem = quote.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "urn:motcua:problem:fee-not-computable");
    assert!(
        problem["detail"].as_str().unwrap().contains("/pages"),
        "{problem}"
    );
    // The land procedure Xuân Hòa's counter receives for the department: its flat
    // registration fee is quoted, its land-use levy is assessed later and says so.
    let quote = server
        .post(
            "/api/v1/procedures/1.012756/fees/quote",
            None,
            &json!({ "unit": "xuan-hoa", "form": {} }),
        )
        .await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert_eq!(quote.body["fees"][0]["amount_vnd"], 100_000);
    assert_eq!(quote.body["fees"][1]["amount_vnd"], Value::Null);
    assert_eq!(
        quote.body["fees"][1]["schedule"],
        "Xác định trong quá trình giải quyết hồ sơ"
    );
    assert_eq!(quote.body["total_vnd"], 100_000);
    assert_eq!(quote.body["complete"], false);
    // A procedure the unit does not offer is not found.
    let quote = server
        .post(
            "/api/v1/procedures/9.999999/fees/quote",
            None,
            &json!({ "unit": "xuan-hoa", "form": {} }),
        )
        .await;
    quote.problem(StatusCode::NOT_FOUND);
    server.finish().await;
}
