-- Huiwu schema, version 1: plans, members, assignments, submissions, reviews, outbox, surveys.
-- Times are ISO 8601 text in UTC.

CREATE TABLE plan_instances (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    plan_toml     TEXT NOT NULL,                 -- the plan as loaded; the normalised plan is derived from it
    status        TEXT NOT NULL DEFAULT 'loaded' CHECK (status IN ('loaded', 'active', 'finished')),
    loaded_by     TEXT,                          -- platform:user id of who loaded it
    created_at    TEXT NOT NULL
);

-- A group chat on one platform belongs to one plan instance.
CREATE TABLE chat_bindings (
    platform      TEXT NOT NULL,
    chat_id       TEXT NOT NULL,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    bound_at      TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id)
);
CREATE INDEX chat_bindings_instance ON chat_bindings(instance_id);

CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    member_key    TEXT NOT NULL,                 -- the id in the plan's roster
    name          TEXT NOT NULL,
    roles         TEXT NOT NULL,                 -- comma-separated Role values
    locale        TEXT,
    UNIQUE (instance_id, member_key)
);

-- How a member is reached on a platform. Telegram users must start the bot first.
CREATE TABLE identities (
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    reachable     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (member_id, platform)
);
CREATE INDEX identities_user ON identities(platform, user_id);

CREATE TABLE invites (
    code          TEXT PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    used_at       TEXT
);

CREATE TABLE phase_runs (
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    phase_id      TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    PRIMARY KEY (instance_id, phase_id)
);

CREATE TABLE assignments (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    task_id       TEXT NOT NULL,
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'submitted', 'approved', 'returned')),
    due_at        TEXT NOT NULL,
    assigned_at   TEXT NOT NULL,
    UNIQUE (instance_id, task_id, member_id)
);
CREATE INDEX assignments_member ON assignments(member_id, status);

-- Every version of every submission is kept.
CREATE TABLE submissions (
    id            INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    text          TEXT,
    submitted_at  TEXT NOT NULL,
    late          INTEGER NOT NULL,
    UNIQUE (assignment_id, version)
);

CREATE TABLE submission_files (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    file_ref      TEXT NOT NULL,                 -- the platform's file id or media id
    file_name     TEXT,
    mime_type     TEXT,
    size          INTEGER,
    content       BLOB                           -- our own copy: platform file ids expire
);

CREATE TABLE reviews (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    reviewer_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    verdict       TEXT NOT NULL CHECK (verdict IN ('approved', 'returned')),
    comment       TEXT,
    reviewed_at   TEXT NOT NULL
);

-- A multi-step conversation (e.g. a submission being composed) survives a restart.
CREATE TABLE conversations (
    platform      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    state         TEXT NOT NULL,
    data          TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (platform, user_id)
);

-- Every message the bot sends goes through here: written in the same transaction as the
-- change that causes it, sent later by the platform's sender, never dropped.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    dedupe_key    TEXT UNIQUE,                   -- pushes and reminders are idempotent by key
    instance_id   INTEGER REFERENCES plan_instances(id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    chat_id       TEXT NOT NULL,
    payload       TEXT NOT NULL,                 -- JSON of an OutgoingMessage
    created_at    TEXT NOT NULL,
    not_before    TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sending', 'sent', 'held', 'failed')),
    sent_at       TEXT,
    last_error    TEXT
);
CREATE INDEX outbox_pending ON outbox(platform, state, id);
CREATE INDEX outbox_held ON outbox(platform, chat_id) WHERE state = 'held';

CREATE TABLE surveys (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    survey_key    TEXT NOT NULL,
    round         INTEGER NOT NULL DEFAULT 1,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at     TEXT NOT NULL,
    closed_at     TEXT,
    UNIQUE (instance_id, survey_key, round)
);

-- Who has voted, kept apart from what was voted.
CREATE TABLE survey_voters (
    survey_id     INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    PRIMARY KEY (survey_id, member_id)
) WITHOUT ROWID;

-- Ballots: no voter, no time, and a random key so stored order is not casting order.
CREATE TABLE ballots (
    ballot_key    BLOB PRIMARY KEY,
    survey_id     INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    answers       TEXT NOT NULL                  -- JSON list: one choice per survey item
) WITHOUT ROWID;

CREATE TABLE rectification_items (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    description   TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('opinion', 'meeting', 'self-review')),
    category      TEXT NOT NULL CHECK (category IN ('immediate', 'deadline', 'explain', 'escalate')),
    member_id     INTEGER REFERENCES members(id) ON DELETE SET NULL,
    department    TEXT,
    due_at        TEXT,
    status        TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done')),
    evidence      TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
