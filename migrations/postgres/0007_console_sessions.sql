-- Staff sign-in for the web console (docs/decisions/0020-console-sign-in.md).
-- An account may have a password (an argon2id PHC string); bearer tokens stay for
-- machines and scripts.
ALTER TABLE actors ADD COLUMN password_hash TEXT;

-- Consecutive failed sign-ins per account name (its sha256), whether or not such an
-- account exists, so a lock says nothing about which names exist. An attempt is counted
-- before its password is checked; a success deletes the row; rows quiet for a day go.
CREATE TABLE sign_in_attempts (
    name_hash     TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    locked_until  TEXT,
    last_at       TEXT NOT NULL
);

-- A signed-in browser: the cookie's sha256 (the cookie itself is never stored), the
-- account, the token every form of the session must post back, and when it ends.
CREATE TABLE console_sessions (
    token_hash  TEXT PRIMARY KEY,
    actor_id    TEXT NOT NULL REFERENCES actors (id),
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX console_sessions_by_actor ON console_sessions (actor_id);
