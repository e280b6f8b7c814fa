#!/usr/bin/env bash
# Why an action costs PostgreSQL more than the bare server's: the dossier row's update
# is never a HOT update (PostgreSQL's in-page update that writes no index entry),
# because the report indexes (`dossiers_report`, `dossiers_changed`, migration 0004)
# hold columns every action changes (`updated_at`, `paid_online`, fees, settlement).
#
# Builds a scratch database from migrations/postgres with 50,000 dossiers, and a copy
# without those two indexes (fillfactor 70, so that a page has room for the new
# version), then runs the action's one-statement write (as `store/writes.rs` builds it
# for a payment: the row, the chained event, the facts row) with pgbench on both,
# interleaved, and prints how many updates were HOT. Drops both databases at the end.
#
# The schema is the one before migration 0010, which took `updated_at` out of every
# index of `dossiers` (docs/decisions/0029) after this measurement.
#
# Run: bash load/experiments/hot_updates.sh [rounds] [seconds]
# (PostgreSQL as MOTCUA_TEST_POSTGRES_URL's server, by default 127.0.0.1:5432 as postgres)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
seconds=${2:-6}
host=127.0.0.1
psql_() { psql -h "$host" -U postgres -q -v ON_ERROR_STOP=1 "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"; psql_ -d test -c "DROP DATABASE IF EXISTS motcua_exp_all" -c "DROP DATABASE IF EXISTS motcua_exp_hot" >/dev/null 2>&1 || true' EXIT

psql_ -d test -c "DROP DATABASE IF EXISTS motcua_exp_all" -c "DROP DATABASE IF EXISTS motcua_exp_hot" -c "CREATE DATABASE motcua_exp_all"
for migration in migrations/postgres/000*.sql; do psql_ -d motcua_exp_all -f "$migration"; done
psql_ -d motcua_exp_all <<'SQL'
INSERT INTO units (code, name, agency_id) VALUES ('xuan-hoa', 'Xuân Hòa', 'H12.1');
INSERT INTO plugin_builds VALUES ('b', '1.001612', '1.0.0', '0.2.0', 1, '\x00', '{}', 'x', 'x');
INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit, channel,
    applicant_json, form_json, step, status, submitted_at, tracking_secret_hash, version, updated_at,
    last_seq, last_hash)
SELECT 'H12.1-261207-' || lpad(g::text, 6, '0'), '1.001612', 'b', 'xuan-hoa', 'xuan-hoa', 'in-person',
    '{"full_name":"Lê Văn Hùng","citizen_id":"025085006789","phone":"0987654321","address":"Số 12 đường Hùng Vương, phường Xuân Hòa"}',
    '{"business_name":"Hộ kinh doanh Tạp hóa Hùng Lan","address":"Số 12 đường Hùng Vương, phường Xuân Hòa, tỉnh Phú Thọ","business_lines":["Bán lẻ lương thực, thực phẩm","Bán lẻ đồ uống"],"capital_vnd":150000000,"employees":2,"members":[]}',
    'processing', 2, '2026-12-07T08:00:00+07:00', repeat('a', 64), 1, '2026-12-07T08:00:00+07:00', 1, repeat('b', 64)
FROM generate_series(1, 50000) g;
-- In progress as the payment below leaves them, so that the update changes only what a
-- payment changes (a first update that set the due date would move the inbox entries).
UPDATE dossiers SET received_at = '2026-12-07T08:00:00+07:00', clock_started_at = '2026-12-07T08:00:00+07:00',
    due_date = '2026-12-20', fees_requested_vnd = 100000, statutory_due_date = '2026-12-20', due_provisional = 0,
    clock_base_day = '2026-12-07', clock_days = 10, waited_seconds = 0, digitized = 1;
SQL
psql_ -d motcua_exp_all -c "VACUUM FULL dossiers" -c "VACUUM ANALYZE"
psql_ -d test -c "CREATE DATABASE motcua_exp_hot TEMPLATE motcua_exp_all"
psql_ -d motcua_exp_hot -c "DROP INDEX dossiers_report; DROP INDEX dossiers_changed; ALTER TABLE dossiers SET (fillfactor = 70)" \
    -c "VACUUM FULL dossiers" -c "VACUUM ANALYZE"

# The action's write for a payment. Values with a colon are pgbench variables (-D):
# pgbench would read `:name` inside a literal as one.
cat > "$work/action.sql" <<'SQL'
\set n random(1, 50000)
WITH u AS (UPDATE dossiers SET step = 'processing', status = 2, received_at = :t, clock_started_at = :t, due_date = '2026-12-20', supplement_count = 0, extension_count = 0, fees_requested_vnd = 100000, fees_paid_vnd = fees_paid_vnd + 1, paid_online = 1 - paid_online, result_json = NULL, settled_at = NULL, returned_at = NULL, updated_at = clock_timestamp()::text, statutory_due_date = '2026-12-20', due_provisional = 0, clock_base_day = '2026-12-07', clock_days = 10, paused_days_left = NULL, waiting_since = NULL, waited_seconds = 0, closed_at = NULL, processing_seconds = NULL, digitized = 1, rating = NULL, version = version + 1, last_seq = last_seq + 1, last_hash = md5(random()::text)
  WHERE code = 'H12.1-261207-' || lpad(CAST(:n AS text), 6, '0')
  RETURNING code, handling_unit, procedure_code, channel, status, statutory_due_date, due_date, supplement_count, settled_at, closed_at, processing_seconds, fees_requested_vnd, paid_online, digitized, rating, last_seq, updated_at),
e AS (INSERT INTO dossier_events (dossier_code, seq, at, actor_id, actor_role, actor_unit, action, from_step, to_step, from_status, to_status, note, payload_json, prev_hash, hash)
  SELECT code, last_seq, updated_at, 'demo-xuan-hoa-officer', 'officer', 'xuan-hoa', 'record-payment', 'processing', 'processing', 2, 2, '', :payload, repeat('c', 64), md5(random()::text) || md5(random()::text) FROM u),
c AS (INSERT INTO dossier_changes (dossier_code, seq, at, handling_unit, agency_id, procedure_code, channel, from_status, to_status, status_changed, statutory_due_date, due_date, supplement_count, settled_at, closed_at, processing_seconds, fees_requested_vnd, paid_online, digitized, rating)
  SELECT u.code, u.last_seq, u.updated_at, u.handling_unit, units.agency_id, u.procedure_code, u.channel, 2, u.status, 0, u.statutory_due_date, u.due_date, u.supplement_count, u.settled_at, u.closed_at, u.processing_seconds, u.fees_requested_vnd, u.paid_online, u.digitized, u.rating FROM u JOIN units ON units.code = u.handling_unit)
SELECT code FROM u;
SQL

bench() {
    pgbench -h "$host" -U postgres -n -M prepared -c 16 -j 2 -T "$seconds" \
        -D t='2026-12-07T08:00:00+07:00' \
        -D payload='{"amount_vnd":1,"online":true,"receipt":"VNPAY-1"}' \
        -f "$work/action.sql" "$1" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
for db in motcua_exp_all motcua_exp_hot; do psql_ -d "$db" -Atc "SELECT pg_stat_reset()" >/dev/null; done
for round in $(seq 1 "$rounds"); do
    echo "round $round: all indexes $(bench motcua_exp_all) tps, without the report indexes $(bench motcua_exp_hot) tps"
done
for db in motcua_exp_all motcua_exp_hot; do
    echo "$db: $(psql_ -d "$db" -Atc "SELECT n_tup_upd || ' updates, ' || n_tup_hot_upd || ' HOT' FROM pg_stat_user_tables WHERE relname = 'dossiers'")"
done
