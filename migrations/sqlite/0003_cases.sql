-- Cases: the department's workflow (intake, review, signature, application),
-- their attachments (content stored by SHA-256 outside the database), the
-- signed steps with the staff's signing keys, the timeline, the gapless case
-- numbers, and the notification outbox. SQLite: booleans are INTEGER 0/1,
-- dates TEXT 'YYYY-MM-DD', instants TIMESTAMP.

-- The gapless number series per municipality and year ("TM-2026-000123"):
-- the intake transaction increments the row, so a rolled-back intake uses no
-- number.
CREATE TABLE case_counters (
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	year INTEGER NOT NULL,
	last_number INTEGER NOT NULL,
	PRIMARY KEY (municipality_id, year)
);

CREATE TABLE cases (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	number TEXT NOT NULL,
	type TEXT NOT NULL,
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	data TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('submitted', 'awaiting_taxpayer', 'reviewed', 'approved', 'rejected')),
	submitted_at TIMESTAMP NOT NULL,
	submitted_on TEXT NOT NULL,
	sla_working_days INTEGER NOT NULL,
	due_on TEXT NOT NULL,
	pauses TEXT NOT NULL DEFAULT '[]',
	assignee_id INTEGER REFERENCES users(id),
	created_by INTEGER REFERENCES users(id),
	decided_at TIMESTAMP,
	decision_reason TEXT NOT NULL DEFAULT '',
	escalated_at TIMESTAMP,
	breached_at TIMESTAMP,
	straight_through INTEGER NOT NULL DEFAULT 0,
	result TEXT NOT NULL DEFAULT '{}',
	updated_at TIMESTAMP NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	UNIQUE (municipality_id, number)
);
CREATE INDEX cases_queue ON cases (municipality_id, status, due_on);
CREATE INDEX cases_taxpayer ON cases (municipality_id, taxpayer_id);

CREATE TABLE case_attachments (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	case_id INTEGER NOT NULL REFERENCES cases(id),
	kind TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	filename TEXT NOT NULL DEFAULT '',
	uploaded_by INTEGER REFERENCES users(id),
	created_at TIMESTAMP NOT NULL,
	UNIQUE (municipality_id, case_id, kind, sha256)
);
CREATE INDEX case_attachments_sha ON case_attachments (municipality_id, sha256);

-- A signing key per member of staff (user_id NULL: the service's own key,
-- which countersigns what taxpayers submit). public_key is the raw key
-- (base64); certificate is a PEM certificate when the key has one (a
-- qualified certificate later); sealed_private is the private key encrypted
-- under the server's master key, empty for keys held outside (a QSCD).
CREATE TABLE signing_keys (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	user_id INTEGER REFERENCES users(id),
	algorithm TEXT NOT NULL,
	public_key TEXT NOT NULL,
	certificate TEXT NOT NULL DEFAULT '',
	sealed_private TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX signing_keys_active ON signing_keys (municipality_id, COALESCE(user_id, 0)) WHERE revoked_at IS NULL;

-- The signed steps of a case: the state it acted on (canonical JSON), the
-- digest chaining it to the previous step, and the actor's signature.
CREATE TABLE case_steps (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	case_id INTEGER NOT NULL REFERENCES cases(id),
	seq INTEGER NOT NULL,
	action TEXT NOT NULL,
	decision TEXT NOT NULL DEFAULT '',
	from_status TEXT NOT NULL,
	to_status TEXT NOT NULL,
	actor_id INTEGER REFERENCES users(id),
	actor TEXT NOT NULL,
	actor_role TEXT NOT NULL,
	at TIMESTAMP NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	state_json TEXT NOT NULL,
	prev_digest TEXT NOT NULL,
	digest TEXT NOT NULL,
	key_id INTEGER NOT NULL REFERENCES signing_keys(id),
	signature TEXT NOT NULL,
	UNIQUE (municipality_id, case_id, seq)
);
CREATE INDEX case_steps_case ON case_steps (case_id, seq);

-- The timeline: every event of a case; public ones are shown to the taxpayer.
CREATE TABLE case_events (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	case_id INTEGER NOT NULL REFERENCES cases(id),
	at TIMESTAMP NOT NULL,
	actor_id INTEGER REFERENCES users(id),
	actor TEXT NOT NULL,
	kind TEXT NOT NULL,
	body TEXT NOT NULL DEFAULT '',
	public INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- The outbox: messages written in the transaction that caused them and
-- sent after commit by the dispatcher.
CREATE TABLE notifications (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	case_id INTEGER REFERENCES cases(id),
	user_id INTEGER REFERENCES users(id),
	recipient TEXT NOT NULL,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	sent_at TIMESTAMP,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_pending ON notifications (id) WHERE sent_at IS NULL;
