-- Foundation: tenants, accounts, sessions, the taxpayer registry, the audit
-- log and idempotency keys. SQLite: INTEGER PRIMARY KEY is the rowid alias;
-- instants are TIMESTAMP (modernc parses them back to time.Time); money is
-- INTEGER bani.
CREATE TABLE municipalities (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	rank TEXT NOT NULL DEFAULT 'I',
	county TEXT NOT NULL DEFAULT '',
	settings TEXT NOT NULL DEFAULT '{}',
	created_at TIMESTAMP NOT NULL
);

CREATE TABLE taxpayers (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	kind TEXT NOT NULL CHECK (kind IN ('individual', 'company')),
	cnp TEXT,
	cui TEXT,
	name TEXT NOT NULL,
	address TEXT NOT NULL,
	email TEXT NOT NULL DEFAULT '',
	phone TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	UNIQUE (municipality_id, cnp),
	UNIQUE (municipality_id, cui)
);
CREATE INDEX taxpayers_name ON taxpayers (municipality_id, name);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	username TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('taxpayer', 'officer', 'signer', 'accountant', 'admin')),
	taxpayer_id INTEGER REFERENCES taxpayers(id),
	email TEXT NOT NULL DEFAULT '',
	full_name TEXT NOT NULL DEFAULT '',
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMP NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	UNIQUE (municipality_id, username)
);

CREATE TABLE sessions (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	user_id INTEGER NOT NULL REFERENCES users(id),
	token_hash TEXT NOT NULL UNIQUE,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	revoked_at TIMESTAMP
);

CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	seq INTEGER NOT NULL,
	at TIMESTAMP NOT NULL,
	actor_id INTEGER,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	entity TEXT NOT NULL,
	entity_id TEXT NOT NULL,
	before_json TEXT NOT NULL,
	after_json TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	UNIQUE (municipality_id, seq)
);

-- One row a municipality: the head of its audit chain. Updating it in the
-- writing transaction serialises appends to the chain on both engines.
CREATE TABLE audit_heads (
	municipality_id INTEGER PRIMARY KEY REFERENCES municipalities(id),
	seq INTEGER NOT NULL,
	hash TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	user_id INTEGER NOT NULL REFERENCES users(id),
	idem_key TEXT NOT NULL,
	route TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status INTEGER NOT NULL DEFAULT 0,
	content_type TEXT NOT NULL DEFAULT '',
	response BLOB,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (municipality_id, user_id, idem_key)
);
