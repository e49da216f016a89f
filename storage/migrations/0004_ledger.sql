-- Rectification ledger (issue 7): evidence, the history of each item's status (for the
-- completion-over-time chart) and where an imported item came from.

-- "submission:12:3": the third measure of submission 12; importing it again adds nothing.
ALTER TABLE rectification_items ADD COLUMN source_ref TEXT;
CREATE UNIQUE INDEX rectification_items_source_ref
    ON rectification_items(instance_id, source_ref) WHERE source_ref IS NOT NULL;
CREATE INDEX rectification_items_instance ON rectification_items(instance_id, status);
CREATE INDEX rectification_items_member ON rectification_items(member_id);

-- What a member hands in to show an item is being dealt with: a text or a file (kept whole,
-- as platform file ids expire). rectification_items.evidence (0001) stays unused.
CREATE TABLE rectification_evidence (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER NOT NULL REFERENCES rectification_items(id) ON DELETE CASCADE,
    member_id     INTEGER REFERENCES members(id) ON DELETE SET NULL,
    text          TEXT,
    platform      TEXT,
    file_ref      TEXT,
    file_name     TEXT,
    mime_type     TEXT,
    size          INTEGER,
    content       BLOB,
    added_at      TEXT NOT NULL,
    CHECK (text IS NOT NULL OR file_ref IS NOT NULL)
);
CREATE INDEX rectification_evidence_item ON rectification_evidence(item_id);

-- Every status an item has had, from its creation on.
CREATE TABLE rectification_history (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER NOT NULL REFERENCES rectification_items(id) ON DELETE CASCADE,
    status        TEXT NOT NULL CHECK (status IN ('todo', 'in_progress', 'done')),
    member_id     INTEGER REFERENCES members(id) ON DELETE SET NULL,
    changed_at    TEXT NOT NULL
);
CREATE INDEX rectification_history_item ON rectification_history(item_id, changed_at);
