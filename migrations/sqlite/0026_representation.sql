-- Citizen identity, part three (issue 19): a person represents a company.
-- A link exists only after a signer approved a representation request (case
-- type "representation", with the mandate); it ends when revoked or past
-- valid_until. A session may act for a linked company (sessions.representation_id).
-- SQLite: dates TEXT 'YYYY-MM-DD', instants TIMESTAMP.
CREATE TABLE representations (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	user_id INTEGER NOT NULL REFERENCES users(id),
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	role TEXT NOT NULL CHECK (role IN ('administrator', 'empowered')),
	case_id INTEGER NOT NULL REFERENCES cases(id),
	valid_until TEXT,
	created_at TIMESTAMP NOT NULL,
	revoked_at TIMESTAMP,
	revoked_by INTEGER REFERENCES users(id),
	revoke_reason TEXT NOT NULL DEFAULT ''
);
-- At most one link not revoked per person and company (an expired one is
-- revoked by the approval of the next).
CREATE UNIQUE INDEX representations_active ON representations (municipality_id, user_id, taxpayer_id) WHERE revoked_at IS NULL;
CREATE INDEX representations_taxpayer ON representations (municipality_id, taxpayer_id);

ALTER TABLE sessions ADD COLUMN representation_id INTEGER REFERENCES representations(id);
