-- Issue 22. A plan sent in chat names people by their accounts; it binds each of them only
-- when they accept (until then the account is an offer here, not an identity, so nothing of
-- the plan reaches them).
CREATE TABLE plan_offers (
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    offered_at    TEXT NOT NULL,
    PRIMARY KEY (member_id, platform)
);
CREATE INDEX plan_offers_account ON plan_offers(platform, user_id);

-- The plan a person's private commands act on when they are on several.
CREATE TABLE current_plans (
    platform      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    instance_id   INTEGER NOT NULL REFERENCES plan_instances(id) ON DELETE CASCADE,
    chosen_at     TEXT NOT NULL,
    PRIMARY KEY (platform, user_id)
);

-- Files handed in are kept in the files folder beside the database, named by the SHA-256
-- of their content; `content` stays NULL for them (older rows keep their bytes there).
ALTER TABLE submission_files ADD COLUMN sha256 TEXT;
ALTER TABLE rectification_evidence ADD COLUMN sha256 TEXT;
