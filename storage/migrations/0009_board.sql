-- The plan board (issue 18): its signing key, one-time links and browser sessions.
-- Tokens are stored as SHA-256 digests: a copy of the database opens no board.
CREATE TABLE board_keys (
    name          TEXT PRIMARY KEY,
    secret        BLOB NOT NULL
);
CREATE TABLE board_links (
    digest        TEXT PRIMARY KEY,              -- sha256 of the link's nonce
    platform      TEXT NOT NULL,                 -- whose link: the identity the board acts as
    user_id       TEXT NOT NULL,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);
CREATE TABLE board_sessions (
    digest        TEXT PRIMARY KEY,              -- sha256 of the cookie's token
    platform      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    locale        TEXT,
    csrf          TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX board_sessions_expiry ON board_sessions(expires_at);
