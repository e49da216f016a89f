-- Reminders (issue 4): what the engine has sent, and pauses (a member on leave, a task held).

-- One row per reminder decided and queued; the key makes each go out once, also across a
-- restart. The message itself is in the outbox, written in the same transaction.
CREATE TABLE reminder_log (
    reminder_key  TEXT PRIMARY KEY,              -- item key + ':' + kind ':' days, e.g. task:42:before:3
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,  -- whose item it is
    kind          TEXT NOT NULL,
    planned_for   TEXT NOT NULL,
    sent_at       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX reminder_log_instance ON reminder_log(instance_id);

-- A pause holds reminders of one member (leave) or of one subject (e.g. task:talks) until
-- it is resumed; reminders that fell due meanwhile are not sent afterwards.
CREATE TABLE reminder_pauses (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    member_id     INTEGER REFERENCES members(id) ON DELETE CASCADE,
    subject       TEXT,
    paused_by     INTEGER REFERENCES members(id) ON DELETE SET NULL,
    paused_at     TEXT NOT NULL,
    resumed_at    TEXT,
    CHECK ((member_id IS NULL) != (subject IS NULL))
);
CREATE INDEX reminder_pauses_instance ON reminder_pauses(instance_id);

-- The open assignments of a plan, read at every planning pass, and when each was returned.
CREATE INDEX assignments_open ON assignments(instance_id, status);
CREATE INDEX reviews_submission ON reviews(submission_id);
