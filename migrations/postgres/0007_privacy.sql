-- Who viewed which taxpayer's record (GDPR accountability): one row each
-- time a member of staff reads a taxpayer's personal data.
CREATE TABLE taxpayer_access_log (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	taxpayer_id BIGINT NOT NULL REFERENCES taxpayers(id),
	user_id BIGINT NOT NULL REFERENCES users(id),
	action TEXT NOT NULL,
	at TIMESTAMPTZ NOT NULL
);
CREATE INDEX taxpayer_access_log_taxpayer ON taxpayer_access_log (municipality_id, taxpayer_id, at);
