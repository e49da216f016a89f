-- Huiwu schema, version 3 (issue 6): opinions, heart-to-heart talks, the agenda runner,
-- survey rounds and ballot drafts. Anonymity is kept by the schema: an anonymous opinion and
-- a ballot have no column that could name their author, no time and a random key.

ALTER TABLE surveys ADD COLUMN closes_at TEXT;       -- the clock closes the round then (NULL: on demand)
ALTER TABLE surveys ADD COLUMN result TEXT;          -- JSON written at close: counts, rate, passed
ALTER TABLE surveys ADD COLUMN next_round_at TEXT;   -- a failed round: when the next round opens

-- A voter's answers while they fill in a ballot; deleted (securely) when the ballot is cast.
CREATE TABLE ballot_drafts (
    survey_id     INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    answers       TEXT NOT NULL,                 -- JSON list: a choice index or null per item
    PRIMARY KEY (survey_id, member_id)
) WITHOUT ROWID;

-- 征求意见: a window the organizer opens; its code is the link anyone invited opens.
CREATE TABLE opinion_windows (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    code          TEXT NOT NULL UNIQUE,
    opened_at     TEXT NOT NULL,
    closes_at     TEXT NOT NULL,
    closed_at     TEXT
);

-- Who opened a window's link (staff not on the roster too): says nothing about what they wrote.
CREATE TABLE opinion_writers (
    window_id     INTEGER NOT NULL REFERENCES opinion_windows(id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    PRIMARY KEY (window_id, platform, user_id)
) WITHOUT ROWID;
CREATE INDEX opinion_writers_user ON opinion_writers(platform, user_id);

-- Opinions, verbatim. No time, a random key (stored order is not sending order); an anonymous
-- opinion has no sender at all.
CREATE TABLE opinions (
    opinion_key   BLOB PRIMARY KEY,
    window_id     INTEGER NOT NULL REFERENCES opinion_windows(id) ON DELETE CASCADE,
    addressee_id  INTEGER REFERENCES members(id) ON DELETE CASCADE,   -- NULL: the whole team
    text          TEXT NOT NULL,
    sender_name   TEXT                                                -- NULL: anonymous
) WITHOUT ROWID;

-- 交流谈心: one side records a talk, the other confirms (or declines) it.
CREATE TABLE talks (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    member_a      INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    member_b      INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    recorded_by   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'recorded' CHECK (status IN ('recorded', 'confirmed', 'declined')),
    recorded_at   TEXT NOT NULL,
    answered_at   TEXT,
    CHECK (member_a < member_b),
    CHECK (recorded_by IN (member_a, member_b))
);
CREATE INDEX talks_pair ON talks(instance_id, member_a, member_b);

-- The meeting in the group: which agenda item (and which speaker of it) is current.
CREATE TABLE meeting_runs (
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    run           INTEGER NOT NULL,              -- 1, then 2 for a reconvened meeting, ...
    item          INTEGER NOT NULL DEFAULT 1,    -- the current agenda item (1-based)
    speaker       INTEGER NOT NULL DEFAULT 0,    -- index in the item's speaking order
    opened_at     TEXT NOT NULL,
    ended_at      TEXT,
    PRIMARY KEY (instance_id, run)
);
