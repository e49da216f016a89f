-- The WeCom intelligent robot (issue 17) journals what it receives in the same table as the
-- app's callbacks: a channel column keeps the two apart, so each resumes only its own at
-- start-up ("app": the self-built app's callbacks; "robot": the robot's messages and events,
-- from the long connection or the robot's callback URL, keyed by msgid).
ALTER TABLE wecom_callbacks ADD COLUMN channel TEXT NOT NULL DEFAULT 'app';
CREATE INDEX wecom_callbacks_channel_unhandled ON wecom_callbacks(channel, id) WHERE handled_at IS NULL;
