-- Request types as data (fiscal/casedef.go, internal/store/casedefs.go): a
-- municipality's published definitions, one row per version of a type, the
-- body as the checked JSON. A case of a published type records the version
-- it runs on (definition_version; NULL for the built-in types); each act on
-- it is a signed case step with the step's full name (step) and, when a
-- substitute took it on behalf of the absent person, that person
-- (on_behalf_of_id / on_behalf_of).
CREATE TABLE case_definitions (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	type TEXT NOT NULL,
	version BIGINT NOT NULL,
	body TEXT NOT NULL,
	published_at TIMESTAMPTZ NOT NULL,
	published_by BIGINT REFERENCES users(id),
	UNIQUE (municipality_id, type, version)
);

ALTER TABLE cases ADD COLUMN definition_version BIGINT;
ALTER TABLE case_steps ADD COLUMN step TEXT NOT NULL DEFAULT '';
ALTER TABLE case_steps ADD COLUMN on_behalf_of_id BIGINT REFERENCES users(id);
ALTER TABLE case_steps ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';

-- Substitutions: while [from_on, to_on] runs, substitute_id may take the
-- steps of user_id (of case_type, or of every type when it is ''), in their
-- own name (delegate) or recorded as acting for them (on_behalf).
CREATE TABLE substitutions (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	user_id BIGINT NOT NULL REFERENCES users(id),
	substitute_id BIGINT NOT NULL REFERENCES users(id),
	from_on DATE NOT NULL,
	to_on DATE NOT NULL,
	mode TEXT NOT NULL CHECK (mode IN ('delegate', 'on_behalf')),
	case_type TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	created_by BIGINT REFERENCES users(id)
);
CREATE INDEX substitutions_substitute ON substitutions (municipality_id, substitute_id, to_on);
