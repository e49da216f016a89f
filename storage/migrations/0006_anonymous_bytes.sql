-- Huiwu schema, version 6 (issue 15): anonymity on the bytes of the file, not only the schema.
-- Ballots and opinions stored by an older Huiwu sit in the file in the order they were cast:
-- they are written again, with fresh keys, in a random order (the old bytes are zeroed by
-- secure_delete). Callbacks journalled in clear (who pressed which vote button, who wrote
-- which opinion) are dropped once handled; those not handled yet are hashed and erased when
-- the bot handles them at its next start.

CREATE TEMP TABLE shuffled_ballots AS
    SELECT survey_id, answers FROM ballots ORDER BY random();
DELETE FROM ballots;
INSERT INTO ballots (ballot_key, survey_id, answers)
    SELECT randomblob(16), survey_id, answers FROM shuffled_ballots ORDER BY random();
DROP TABLE temp.shuffled_ballots;

CREATE TEMP TABLE shuffled_opinions AS
    SELECT window_id, addressee_id, text, sender_name FROM opinions ORDER BY random();
DELETE FROM opinions;
INSERT INTO opinions (opinion_key, window_id, addressee_id, text, sender_name)
    SELECT randomblob(16), window_id, addressee_id, text, sender_name
    FROM shuffled_opinions ORDER BY random();
DROP TABLE temp.shuffled_opinions;

DELETE FROM wecom_callbacks WHERE handled_at IS NOT NULL;
