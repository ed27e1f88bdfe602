-- Citizen identity, part two (issue 19): enrollment codes, attempt counters
-- shared by instances, and the indexes the staff account changes need.
-- SQLite: dates TEXT 'YYYY-MM-DD', instants TIMESTAMP.

-- Enrolled accounts are users.assurance = 'verified' (the column comes with
-- migration 0019).

-- One-time codes that let a taxpayer already in the registry open an
-- online account. Only the SHA-256 of the normalised code is stored. At most
-- one active code per taxpayer: issuing a new one revokes the old.
CREATE TABLE enrollment_codes (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	code_hash TEXT NOT NULL UNIQUE,
	expires_on TEXT NOT NULL,
	issued_by INTEGER REFERENCES users(id),
	created_at TIMESTAMP NOT NULL,
	used_at TIMESTAMP,
	used_by INTEGER REFERENCES users(id),
	revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX enrollment_codes_active ON enrollment_codes (taxpayer_id) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX enrollment_codes_taxpayer ON enrollment_codes (municipality_id, taxpayer_id);

-- Attempts counted per key (an address, a taxpayer) in fixed windows, in the
-- database so that every instance counts into the same row.
CREATE TABLE attempt_counters (
	counter_key TEXT NOT NULL,
	window_start TIMESTAMP NOT NULL,
	attempts INTEGER NOT NULL,
	PRIMARY KEY (counter_key, window_start)
);
CREATE INDEX attempt_counters_window ON attempt_counters (window_start);

-- Ending a user's sessions and returning their open cases to the queue.
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX cases_assignee ON cases (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX signing_keys_user ON signing_keys (user_id) WHERE revoked_at IS NULL;
