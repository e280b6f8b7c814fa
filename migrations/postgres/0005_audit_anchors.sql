-- Audit anchors: once a civil day, the heads of the dossier chains that changed since
-- the previous anchor (every chain for the first anchor), signed with an Ed25519 key
-- the database does not hold (docs/decisions/0015-audit-anchors.md).
--   day           the civil day whose end the anchor stands at (YYYY-MM-DD); one per day
--   since         the previous anchor's cutoff; NULL for the first anchor, which covers all
--   cutoff        the start of the next day: heads are the last events before it
--   prev_digest   the previous anchor's digest (zeros for the first): anchors form a chain,
--                 and no two anchors follow the same one
--   heads_json    [[dossier code, seq, hash], ...] sorted by code: what verify compares
--   heads_digest  sha256 of heads_json as canonically written
--   digest        sha256 of the signed statement (day, since, cutoff, prev, heads, key)
--   key_id        sha256 of the raw Ed25519 public key that signed
--   signature     the Ed25519 signature over the statement, hex
CREATE TABLE audit_anchors (
    day           TEXT PRIMARY KEY,
    since         TEXT,
    cutoff        TEXT NOT NULL,
    prev_digest   TEXT NOT NULL UNIQUE,
    heads         BIGINT NOT NULL,
    heads_json    TEXT NOT NULL,
    heads_digest  TEXT NOT NULL,
    digest        TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    signature     TEXT NOT NULL,
    made_at       TEXT NOT NULL,
    made_by       TEXT NOT NULL
);

CREATE FUNCTION audit_anchors_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_anchors is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_anchors_no_change BEFORE UPDATE OR DELETE ON audit_anchors
FOR EACH ROW EXECUTE FUNCTION audit_anchors_append_only();

-- Finds the dossiers whose chains moved during a day without reading every event.
CREATE INDEX dossier_events_by_at ON dossier_events (at, dossier_code);
