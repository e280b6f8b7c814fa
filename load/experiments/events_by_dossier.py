#!/usr/bin/env python3
"""A dossier's events stored together (WITHOUT ROWID, keyed by dossier and seq) against
the events table as it is (a rowid table with a unique index on dossier and seq), on
SQLite, below the host: what a write of an event costs, and what reading one dossier's
history costs right after another write (when a reader's page cache has been dropped).

Tried for issue 11 and not kept; the figures are in BENCHMARKS.md ("Tried and not kept:
a dossier's events stored together"). Builds each database from migrations/sqlite, fills
it with 20,000 dossiers and ten events each, written interleaved in groups of 64 per
commit as the host's writer does, then measures.

Run: python3 load/experiments/events_by_dossier.py [cache MiB]   (Python's own sqlite3)
With a cache size, the writing connection keeps that many MiB of pages (SQLite's
default is 2 MiB).
"""
import glob
import os
import random
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOSSIERS = 20_000
EVENTS_EACH = 10
GROUP = 64
READS = 3_000

CLUSTERED = """
CREATE TABLE dossier_events_by_dossier (
    dossier_code TEXT NOT NULL REFERENCES dossiers(code), seq BIGINT NOT NULL, at TEXT NOT NULL,
    actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, actor_unit TEXT NOT NULL, action TEXT NOT NULL,
    from_step TEXT, to_step TEXT NOT NULL, from_status BIGINT, to_status BIGINT NOT NULL,
    note TEXT NOT NULL, payload_json TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (dossier_code, seq)
) WITHOUT ROWID;
DROP TABLE dossier_events;
ALTER TABLE dossier_events_by_dossier RENAME TO dossier_events;
CREATE INDEX dossier_events_by_at ON dossier_events (at, dossier_code);
"""

EVENT = """INSERT INTO dossier_events (dossier_code, seq, at, actor_id, actor_role, actor_unit, action,
    from_step, to_step, from_status, to_status, note, payload_json, prev_hash, hash)
    VALUES (?, ?, '2026-12-07T08:00:00+07:00', 'demo-xuan-hoa-officer', 'officer', 'xuan-hoa',
    'record-payment', 'processing', 'processing', 2, 2, '',
    '{"amount_vnd":1,"online":true,"receipt":"VNPAY-1"}', ?, ?)"""

HISTORY = """SELECT json_group_array(json_array(dossier_code, seq, at, actor_id, actor_role,
    actor_unit, action, from_step, to_step, from_status, to_status, note, payload_json,
    prev_hash, hash)) FROM (SELECT * FROM dossier_events WHERE dossier_code = ? ORDER BY seq)"""


CACHE_MIB = int(sys.argv[1]) if len(sys.argv) > 1 else None


def database(path, clustered):
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        db.execute(f"PRAGMA {pragma}")
    if CACHE_MIB:
        db.execute(f"PRAGMA cache_size = {-1024 * CACHE_MIB}")
    for migration in sorted(glob.glob(os.path.join(ROOT, "migrations", "sqlite", "*.sql"))):
        db.executescript(open(migration, encoding="utf-8").read())
    if clustered:
        db.executescript(CLUSTERED)
    db.execute("INSERT INTO units (code, name, agency_id) VALUES ('u', 'U', 'H1')")
    db.execute(
        "INSERT INTO plugin_builds (sha256, procedure_code, version, wit_version, size, bytes,"
        " info_json, published_by, published_at) VALUES ('b', 'p', '1', '0.2.0', 1, x'00', '{}', 'x', 'x')"
    )
    db.execute("BEGIN")
    for i in range(DOSSIERS):
        db.execute(
            "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit,"
            " channel, applicant_json, form_json, step, status, submitted_at, tracking_secret_hash,"
            " version, updated_at) VALUES (?, 'p', 'b', 'u', 'u', 'online', ?, ?, 's', 2, '2026', 'h', 1, '2026')",
            (f"D{i:06}", "a" * 150, "f" * 400),
        )
    db.execute("COMMIT")
    return db


def measure(clustered):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "events.db")
        db = database(path, clustered)
        seqs = [0] * DOSSIERS
        written = 0
        started = time.perf_counter()
        for _ in range(EVENTS_EACH):
            order = list(range(DOSSIERS))
            random.shuffle(order)
            for first in range(0, DOSSIERS, GROUP):
                db.execute("BEGIN")
                for i in order[first:first + GROUP]:
                    seqs[i] += 1
                    db.execute(EVENT, (f"D{i:06}", seqs[i], "p" * 64, "h" * 64))
                    written += 1
                db.execute("COMMIT")
        write_us = (time.perf_counter() - started) / written * 1e6
        reader = sqlite3.connect(path, isolation_level=None)
        reading = 0.0
        for _ in range(READS):
            i = random.randrange(DOSSIERS)
            seqs[i] += 1
            db.execute(EVENT, (f"D{i:06}", seqs[i], "p" * 64, "h" * 64))
            code = f"D{random.randrange(DOSSIERS):06}"
            started = time.perf_counter()
            reader.execute(HISTORY, (code,)).fetchone()
            reading += time.perf_counter() - started
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        reader.close()
        db.close()
        return write_us, reading / READS * 1e6, pages


if __name__ == "__main__":
    random.seed(1)
    print(f"SQLite {sqlite3.sqlite_version}, {DOSSIERS} dossiers x {EVENTS_EACH} events")
    for round_ in (1, 2):
        for clustered, name in ((False, "rowid table + index"), (True, "WITHOUT ROWID by dossier")):
            write_us, read_us, pages = measure(clustered)
            print(f"round {round_}: {name:26} write {write_us:6.1f} us/event, "
                  f"history after a write {read_us:6.1f} us, {pages} pages")
