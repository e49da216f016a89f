-- WeCom callbacks as received (issue 5). A callback is recorded before it is answered, so
-- WeCom's retries of it are recognised also after a restart, and one answered but not yet
-- handled when the process stopped is handled at the next start. Handled rows are pruned.
CREATE TABLE wecom_callbacks (
    id            INTEGER PRIMARY KEY,
    dedupe_key    TEXT NOT NULL UNIQUE,          -- "msg:<MsgId>", or "event:<who|when|event|key|task>"
    fields        TEXT NOT NULL,                 -- the decrypted callback's fields, JSON
    received_at   TEXT NOT NULL,
    handled_at    TEXT
);
CREATE INDEX wecom_callbacks_unhandled ON wecom_callbacks(id) WHERE handled_at IS NULL;
CREATE INDEX wecom_callbacks_handled ON wecom_callbacks(handled_at) WHERE handled_at IS NOT NULL;
