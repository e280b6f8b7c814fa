-- Staff sign-in for the web console (docs/decisions/0020-console-sign-in.md).
-- An account may have a password (an argon2id PHC string); bearer tokens stay for
-- machines and scripts. Consecutive failed sign-ins are counted on the account and lock
-- it for a while once they pile up; a success clears them.
ALTER TABLE actors ADD COLUMN password_hash TEXT;
ALTER TABLE actors ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE actors ADD COLUMN sign_in_locked_until TEXT;

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
