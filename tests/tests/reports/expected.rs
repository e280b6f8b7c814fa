//! The tables of the reports test, computed by hand (the arithmetic in comments).

use serde_json::{Value, json};

use crate::province::{BIRTH, HOUSEHOLD, LAND};

/// One row of counts as the report serves it, the arguments in the table's column
/// order: carried over; received [online, in person, postal]; to process; settled
/// [early, on time, late]; in progress [not yet due, due soon, overdue]; [waiting for a
/// supplement, awaiting payment, refused, stopped, withdrawn]; [late %, on-time %];
/// average processing days. The sub-totals of `received`, `settled` and `in_progress`
/// are the sums of their parts; everything else is written by hand.
#[allow(clippy::too_many_arguments)]
pub(crate) fn counts(
    carried_over: i64,
    [online, in_person, postal]: [i64; 3],
    to_process: i64,
    [early, on_time, late]: [i64; 3],
    [not_yet_due, due_soon, overdue]: [i64; 3],
    [
        waiting_supplement,
        awaiting_payment,
        refused,
        stopped,
        withdrawn,
    ]: [i64; 5],
    [late_rate, on_time_rate]: [f64; 2],
    average_processing_days: Option<f64>,
) -> Value {
    json!({
        "carried_over": carried_over,
        "received": { "online": online, "in_person": in_person, "postal": postal,
                      "total": online + in_person + postal },
        "to_process": to_process,
        "settled": { "early": early, "on_time": on_time, "late": late, "total": early + on_time + late },
        "in_progress": { "not_yet_due": not_yet_due, "due_soon": due_soon, "overdue": overdue,
                         "total": not_yet_due + due_soon + overdue },
        "waiting_supplement": waiting_supplement,
        "awaiting_payment": awaiting_payment,
        "refused": refused,
        "stopped": stopped,
        "withdrawn": withdrawn,
        "late_rate_percent": late_rate,
        "on_time_rate_percent": on_time_rate,
        "average_processing_days": average_processing_days,
    })
}

pub(crate) fn with(mut row: Value, fields: Value) -> Value {
    for (key, value) in fields.as_object().unwrap() {
        row[key] = value.clone();
    }
    row
}

pub(crate) fn without(row: &Value, keys: &[&str]) -> Value {
    let mut row = row.clone();
    for key in keys {
        row.as_object_mut().unwrap().remove(*key);
    }
    row
}

pub(crate) fn group(unit: &str, procedure: &str, counts: Value) -> Value {
    with(counts, json!({ "unit": unit, "procedure": procedure }))
}

pub(crate) fn unit_row(unit: &str, name: &str, counts: Value) -> Value {
    with(counts, json!({ "unit": unit, "name": name }))
}

pub(crate) fn procedure_row(procedure: &str, counts: Value) -> Value {
    with(counts, json!({ "procedure": procedure }))
}

/// January 2026, as of Saturday 31 January 23:59:59. Every dossier was filed in January,
/// so nothing is carried over. Due soon means due by Wednesday 4 February (31 January
/// is a Saturday: Monday 2 February, then 2 working days).
#[rustfmt::skip]
pub(crate) fn january_rows() -> (Vec<Value>, Vec<Value>, Vec<Value>, Value) {
    // xuan-hoa, birth: B1 (online, due soon) and B2 (online, refused). To process 2;
    // late 0 → late rate 0, on time 100.
    let xh_birth = counts(0, [2, 0, 0], 2, [0, 0, 0], [0, 1, 0], [0, 0, 1, 0, 0], [0.0, 100.0], None);
    // xuan-hoa, household: H1 (online, early), H2 (online, late), H3 (in person,
    // withdrawn), H5 (postal, due soon). To process 4; late 1 (H2) → 1/4 = 25 %, on
    // time 75 %. Processing (172 800 + 93 600) / 2 = 133 200 s = 1.5417 days → 1.54.
    let xh_household = counts(0, [2, 1, 1], 4, [1, 0, 1], [0, 1, 0], [0, 0, 0, 0, 1], [25.0, 75.0], Some(1.54));
    // xuan-hoa, land: L1 (online), in approval, statutory due 9 February: not yet due.
    let xh_land = counts(0, [1, 0, 0], 1, [0, 0, 0], [1, 0, 0], [0, 0, 0, 0, 0], [0.0, 100.0], None);
    // viet-tri, birth: V1 (in person), settled late. 1/1 late → 100 %, on time 0 %.
    // Processing 86 100 s = 0.9965 days → 1.00.
    let vt_birth = counts(0, [0, 1, 0], 1, [0, 0, 1], [0, 0, 0], [0, 0, 0, 0, 0], [100.0, 0.0], Some(1.0));
    // thanh-ba, household: T1 (online), stopped by the host.
    let tb_household = counts(0, [1, 0, 0], 1, [0, 0, 0], [0, 0, 0], [0, 0, 0, 1, 0], [0.0, 100.0], None);
    let rows = vec![
        group("thanh-ba", HOUSEHOLD, tb_household.clone()),
        group("viet-tri", BIRTH, vt_birth.clone()),
        group("xuan-hoa", BIRTH, xh_birth),
        group("xuan-hoa", HOUSEHOLD, xh_household),
        group("xuan-hoa", LAND, xh_land),
    ];
    // xuan-hoa: received online 2 + 2 + 1 = 5, in person 1, postal 1 = 7 to process;
    // settled early 1, late 1; in progress not yet due 1 (L1), due soon 2 (B1, H5);
    // refused 1, withdrawn 1 (2 + 3 + 1 + 1 = 7). Late 1/7 = 14.2857 % → 14.29; on time
    // 100 − 14.29 = 85.71. Processing 133 200 s → 1.54 days.
    let xuan_hoa = counts(0, [5, 1, 1], 7, [1, 0, 1], [1, 2, 0], [0, 0, 1, 0, 1], [14.29, 85.71], Some(1.54));
    let units = vec![
        unit_row("thanh-ba", "Xã Thanh Ba", tb_household),
        unit_row("viet-tri", "Phường Việt Trì", vt_birth),
        unit_row("xuan-hoa", "Phường Xuân Hòa", xuan_hoa),
    ];
    let procedures = vec![
        // Birth: B1, B2, V1. Online 2, in person 1 = 3; settled late 1 (V1), due soon 1
        // (B1), refused 1 (B2). Late 1/3 = 33.33 %, on time 66.67 %; processing 86 100 s
        // → 1.00 day.
        procedure_row(BIRTH, counts(0, [2, 1, 0], 3, [0, 0, 1], [0, 1, 0], [0, 0, 1, 0, 0], [33.33, 66.67], Some(1.0))),
        // Household: H1, H2, H3, H5, T1. Online 3 (H1, H2, T1), in person 1, postal 1 =
        // 5; early 1, late 1, due soon 1, stopped 1, withdrawn 1. Late 1/5 = 20 %.
        procedure_row(HOUSEHOLD, counts(0, [3, 1, 1], 5, [1, 0, 1], [0, 1, 0], [0, 0, 0, 1, 1], [20.0, 80.0], Some(1.54))),
        procedure_row(LAND, counts(0, [1, 0, 0], 1, [0, 0, 0], [1, 0, 0], [0, 0, 0, 0, 0], [0.0, 100.0], None)),
    ];
    // The province: online 6, in person 2, postal 1 = 9; settled early 1, late 2 (H2,
    // V1); not yet due 1, due soon 2; refused 1, stopped 1, withdrawn 1 (3 + 3 + 3 = 9).
    // Late 2/9 = 22.22 %, on time 77.78 %. Processing (172 800 + 93 600 + 86 100) / 3 =
    // 117 500 s = 1.3600 days → 1.36.
    let total = counts(0, [6, 2, 1], 9, [1, 0, 2], [1, 2, 0], [0, 0, 1, 1, 1], [22.22, 77.78], Some(1.36));
    (rows, units, procedures, total)
}

/// February 2026, as of Saturday 28 February 23:59:59. Carried over: the dossiers filed
/// in January and still open on 1 February (H5, B1, L1). Due soon means due by
/// Wednesday 4 March (Monday 2 March, then 2 working days).
#[rustfmt::skip]
pub(crate) fn february_rows() -> (Vec<Value>, Vec<Value>, Vec<Value>, Value) {
    // xuan-hoa, birth: B1 carried over, settled Monday 2 February, its due date: on
    // time. Processing 237 000 s = 2.743 days → 2.74.
    let xh_birth = counts(1, [0, 0, 0], 1, [0, 1, 0], [0, 0, 0], [0, 0, 0, 0, 0], [0.0, 100.0], Some(2.74));
    // xuan-hoa, household: H5 carried over, overdue (due 3 February); H4 received online,
    // settled on time across Tết. Late 1/2 = 50 %. Processing 1 036 800 s = 12 days.
    let xh_household = counts(1, [1, 0, 0], 2, [0, 1, 0], [0, 0, 1], [0, 0, 0, 0, 0], [50.0, 50.0], Some(12.0));
    // xuan-hoa, land: L1 carried over, settled 25 February after its statutory date
    // (9 February; the apology's 27 February does not count): late. L2 received online,
    // awaiting payment. Late 1/2 = 50 %. Processing 3 798 000 s = 43.958 days → 43.96.
    let xh_land = counts(1, [1, 0, 0], 2, [0, 0, 1], [0, 0, 0], [0, 1, 0, 0, 0], [50.0, 50.0], Some(43.96));
    // viet-tri, household: V2 postal, settled early; V3 online, not received (no due
    // date: not yet due); V4 online, waiting for a supplement. Late 0/3. Processing
    // 171 000 s = 1.979 days → 1.98.
    let vt_household = counts(0, [2, 0, 1], 3, [1, 0, 0], [1, 0, 0], [1, 0, 0, 0, 0], [0.0, 100.0], Some(1.98));
    // thanh-ba, birth: T2 online, due Monday 2 March: due soon.
    let tb_birth = counts(0, [1, 0, 0], 1, [0, 0, 0], [0, 1, 0], [0, 0, 0, 0, 0], [0.0, 100.0], None);
    let rows = vec![
        group("thanh-ba", BIRTH, tb_birth.clone()),
        group("viet-tri", HOUSEHOLD, vt_household.clone()),
        group("xuan-hoa", BIRTH, xh_birth),
        group("xuan-hoa", HOUSEHOLD, xh_household),
        group("xuan-hoa", LAND, xh_land),
    ];
    // xuan-hoa: carried over 3 (B1, H5, L1), received online 2 (H4, L2): 5 to process;
    // on time 2 (B1, H4), late 1 (L1), overdue 1 (H5), awaiting payment 1 (L2)
    // (3 + 1 + 1 = 5). Late (1 + 1)/5 = 40 %. Processing (237 000 + 1 036 800 +
    // 3 798 000) / 3 = 1 690 600 s = 19.567 days → 19.57.
    let xuan_hoa = counts(3, [2, 0, 0], 5, [0, 2, 1], [0, 0, 1], [0, 1, 0, 0, 0], [40.0, 60.0], Some(19.57));
    let units = vec![
        unit_row("thanh-ba", "Xã Thanh Ba", tb_birth),
        unit_row("viet-tri", "Phường Việt Trì", vt_household),
        unit_row("xuan-hoa", "Phường Xuân Hòa", xuan_hoa),
    ];
    let procedures = vec![
        // Birth: B1 carried over (on time), T2 online (due soon). Late 0/2.
        procedure_row(BIRTH, counts(1, [1, 0, 0], 2, [0, 1, 0], [0, 1, 0], [0, 0, 0, 0, 0], [0.0, 100.0], Some(2.74))),
        // Household: H5 carried over (overdue); H4, V3, V4 online, V2 postal: 5 to
        // process; early 1 (V2), on time 1 (H4), not yet due 1 (V3), overdue 1 (H5),
        // waiting 1 (V4). Late 1/5 = 20 %. Processing (1 036 800 + 171 000) / 2 =
        // 603 900 s = 6.990 days → 6.99.
        procedure_row(HOUSEHOLD, counts(1, [3, 0, 1], 5, [1, 1, 0], [1, 0, 1], [1, 0, 0, 0, 0], [20.0, 80.0], Some(6.99))),
        procedure_row(LAND, counts(1, [1, 0, 0], 2, [0, 0, 1], [0, 0, 0], [0, 1, 0, 0, 0], [50.0, 50.0], Some(43.96))),
    ];
    // The province: carried over 3; online 5 (H4, L2, V3, V4, T2), postal 1 (V2): 9 to
    // process; early 1, on time 2, late 1; not yet due 1, due soon 1, overdue 1;
    // waiting 1, awaiting payment 1 (4 + 3 + 1 + 1 = 9). Late (1 + 1)/9 = 22.22 %.
    // Processing (237 000 + 1 036 800 + 3 798 000 + 171 000) / 4 = 1 310 700 s =
    // 15.170 days → 15.17.
    let total = counts(3, [5, 0, 1], 9, [1, 2, 1], [1, 1, 1], [1, 1, 0, 0, 0], [22.22, 77.78], Some(15.17));
    (rows, units, procedures, total)
}

pub(crate) fn processing_report(
    from: &str,
    to: &str,
    as_of: &str,
    rows: (Vec<Value>, Vec<Value>, Vec<Value>, Value),
) -> Value {
    json!({
        "period": { "from": from, "to": to, "as_of": as_of },
        "unit": null,
        "procedure": null,
        "rows": rows.0,
        "units": rows.1,
        "procedures": rows.2,
        "total": rows.3,
    })
}

/// Every served row sorts each dossier into exactly one place.
pub(crate) fn assert_places_add_up(report: &Value) {
    let mut all: Vec<&Value> = Vec::new();
    for key in ["rows", "units", "procedures"] {
        all.extend(report[key].as_array().unwrap());
    }
    all.push(&report["total"]);
    for row in all {
        let n = |path: &[&str]| {
            path.iter()
                .fold(row, |value, key| &value[*key])
                .as_i64()
                .unwrap()
        };
        let places = n(&["settled", "total"])
            + n(&["in_progress", "total"])
            + n(&["waiting_supplement"])
            + n(&["awaiting_payment"])
            + n(&["refused"])
            + n(&["stopped"])
            + n(&["withdrawn"]);
        assert_eq!(places, n(&["to_process"]), "places do not add up: {row}");
        assert_eq!(
            n(&["carried_over"]) + n(&["received", "total"]),
            n(&["to_process"]),
            "{row}"
        );
    }
}

/// One indicator as the report serves it.
pub(crate) fn indicator(
    name: &str,
    group: &str,
    [numerator, denominator]: [i64; 2],
    rate: Option<f64>,
    [target, max]: [i64; 2],
    points: f64,
) -> Value {
    json!({
        "indicator": name, "group": group, "numerator": numerator, "denominator": denominator,
        "rate_percent": rate, "target_percent": target, "max_points": max, "points": points,
    })
}

pub(crate) const ON_TIME: (&str, &str, [i64; 2]) = ("on_time", "Tiến độ giải quyết", [95, 20]);
pub(crate) const ONLINE: (&str, &str, [i64; 2]) = ("online", "Dịch vụ công trực tuyến", [80, 12]);
pub(crate) const PAYMENT: (&str, &str, [i64; 2]) =
    ("online_payment", "Dịch vụ công trực tuyến", [50, 10]);
pub(crate) const DIGITIZATION: (&str, &str, [i64; 2]) = ("digitization", "Số hóa hồ sơ", [100, 22]);
pub(crate) const SATISFACTION: (&str, &str, [i64; 2]) =
    ("satisfaction", "Mức độ hài lòng", [95, 18]);

pub(crate) fn score(
    which: (&str, &str, [i64; 2]),
    fraction: [i64; 2],
    rate: Option<f64>,
    points: f64,
) -> Value {
    indicator(which.0, which.1, fraction, rate, which.2, points)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn unit_scores(
    rank: i64,
    unit: &str,
    name: &str,
    scores: [Value; 5],
    total: f64,
    overdue: (i64, Vec<String>),
    average: Option<f64>,
) -> Value {
    let level = if unit == DEPARTMENT.0 {
        "province"
    } else {
        "commune"
    };
    json!({
        "rank": rank, "level": level, "unit": unit, "name": name, "indicators": scores,
        "total_points": total, "max_points": 82,
        "overdue": { "count": overdue.0, "codes": overdue.1 },
        "average_processing_days": average,
    })
}

/// The demo's department: it handled no dossier of these months, so it scores full
/// points on every indicator, ranked first among the departments (wards and communes
/// are ranked apart from it).
pub(crate) const DEPARTMENT: (&str, &str) = ("so-nnmt", "Sở Nông nghiệp và Môi trường");

#[rustfmt::skip]
pub(crate) fn department_indicators() -> Value {
    unit_scores(
        1,
        DEPARTMENT.0,
        DEPARTMENT.1,
        [
            score(ON_TIME, [0, 0], None, 20.0),
            score(ONLINE, [0, 0], None, 12.0),
            score(PAYMENT, [0, 0], None, 10.0),
            score(DIGITIZATION, [0, 0], None, 22.0),
            score(SATISFACTION, [0, 0], None, 18.0),
        ],
        82.0,
        (0, vec![]),
        None,
    )
}

/// The indicators of January. Points below the target are max × rate ÷ target,
/// rounded to hundredths; a rate with no denominator scores full points.
#[rustfmt::skip]
pub(crate) fn january_indicators() -> Vec<Value> {
    vec![
        // xuan-hoa: on time (7 − 1)/7 = 85.71 % < 95: 20 × 6/7 ÷ 0.95 = 18.045 → 18.05.
        // Online 5/7 = 71.43 % < 80: 12 × 5/7 ÷ 0.8 = 10.714 → 10.71. Online payment:
        // fee-bearing H1, H2, H3, H5, L1; paid online H1, L1: 2/5 = 40 % < 50: 10 × 0.4 ÷
        // 0.5 = 8. Digitized: all but H3 (on paper, no files), with the results of H1 and
        // H2 attached: 6/7 = 85.71 % < 100: 22 × 6/7 = 18.857 → 18.86. Satisfaction: H1 rated satisfied, 1/1 = 100 % → 18. Total 18.05 +
        // 10.71 + 8 + 18.86 + 18 = 73.62.
        unit_scores(
            1,
            "xuan-hoa",
            "Phường Xuân Hòa",
            [
                score(ON_TIME, [6, 7], Some(85.71), 18.05),
                score(ONLINE, [5, 7], Some(71.43), 10.71),
                score(PAYMENT, [2, 5], Some(40.0), 8.0),
                score(DIGITIZATION, [6, 7], Some(85.71), 18.86),
                score(SATISFACTION, [1, 1], Some(100.0), 18.0),
            ],
            73.62,
            (0, vec![]),
            Some(1.54),
        ),
        // thanh-ba: T1 stopped, not late: 1/1 → 20; online 1/1 → 12; fee requested, not
        // paid online: 0/1 → 0; digitized 1/1 (its files stored, no result) → 22;
        // nobody rated: full 18. Total 72.
        unit_scores(
            2,
            "thanh-ba",
            "Xã Thanh Ba",
            [
                score(ON_TIME, [1, 1], Some(100.0), 20.0),
                score(ONLINE, [1, 1], Some(100.0), 12.0),
                score(PAYMENT, [0, 1], Some(0.0), 0.0),
                score(DIGITIZATION, [1, 1], Some(100.0), 22.0),
                score(SATISFACTION, [0, 0], None, 18.0),
            ],
            72.0,
            (0, vec![]),
            None,
        ),
        // viet-tri: V1 late 0/1 → 0; in person 0/1 → 0; no fee: full 10; on paper, no
        // files: 0/1 → 0; rated dissatisfied 0/1 → 0. Total 10.
        unit_scores(
            3,
            "viet-tri",
            "Phường Việt Trì",
            [
                score(ON_TIME, [0, 1], Some(0.0), 0.0),
                score(ONLINE, [0, 1], Some(0.0), 0.0),
                score(PAYMENT, [0, 0], None, 10.0),
                score(DIGITIZATION, [0, 1], Some(0.0), 0.0),
                score(SATISFACTION, [0, 1], Some(0.0), 0.0),
            ],
            10.0,
            (0, vec![]),
            Some(1.0),
        ),
        department_indicators(),
    ]
}

#[rustfmt::skip]
pub(crate) fn february_indicators(h5: &str) -> Vec<Value> {
    vec![
        // thanh-ba: T2 alone, due soon: 1/1, 1/1, no fee (full), 1/1, nobody rated
        // (full): 82.
        unit_scores(
            1,
            "thanh-ba",
            "Xã Thanh Ba",
            [
                score(ON_TIME, [1, 1], Some(100.0), 20.0),
                score(ONLINE, [1, 1], Some(100.0), 12.0),
                score(PAYMENT, [0, 0], None, 10.0),
                score(DIGITIZATION, [1, 1], Some(100.0), 22.0),
                score(SATISFACTION, [0, 0], None, 18.0),
            ],
            82.0,
            (0, vec![]),
            None,
        ),
        // xuan-hoa: on time (5 − 2)/5 = 60 % < 95: 20 × 0.6 ÷ 0.95 = 12.632 → 12.63.
        // Online 2/2 → 12. Fee-bearing H4, H5, L1, L2; paid online H4, L1: 2/4 = 50 % →
        // 10. Digitized 5/5 (B1, L1 and H4 with their results attached) → 22. Nobody
        // rated: 18. Total 74.63. Overdue: H5.
        unit_scores(
            2,
            "xuan-hoa",
            "Phường Xuân Hòa",
            [
                score(ON_TIME, [3, 5], Some(60.0), 12.63),
                score(ONLINE, [2, 2], Some(100.0), 12.0),
                score(PAYMENT, [2, 4], Some(50.0), 10.0),
                score(DIGITIZATION, [5, 5], Some(100.0), 22.0),
                score(SATISFACTION, [0, 0], None, 18.0),
            ],
            74.63,
            (1, vec![h5.to_string()]),
            Some(19.57),
        ),
        // viet-tri: 3/3 on time → 20. Online 2/3 = 66.67 % < 80: 12 × 2/3 ÷ 0.8 = 10.
        // Fee-bearing V2, V4, none paid online: 0/2 → 0. Digitized 3/3 (V2 with its
        // result attached) → 22. V2 rated very satisfied: 1/1 → 18. Total 70.
        unit_scores(
            3,
            "viet-tri",
            "Phường Việt Trì",
            [
                score(ON_TIME, [3, 3], Some(100.0), 20.0),
                score(ONLINE, [2, 3], Some(66.67), 10.0),
                score(PAYMENT, [0, 2], Some(0.0), 0.0),
                score(DIGITIZATION, [3, 3], Some(100.0), 22.0),
                score(SATISFACTION, [1, 1], Some(100.0), 18.0),
            ],
            70.0,
            (0, vec![]),
            Some(1.98),
        ),
        department_indicators(),
    ]
}
