-- Citizen identity, OpenID Connect half (issue 19; internal/store/oidc.go).
--
-- users.assurance says what an account may see of its taxpayer's record:
--   'verified' a person the national identity provider vouched for (and,
--              from the enrollment codes, a taxpayer who proved a code from
--              the department): the record, its debts, payments, documents;
--   'self'     an account self-registered with a password that created its
--              taxpayer record itself (the record holds only what it
--              declared): the same, for that record;
--   'password' a password-only account linked to a record that existed
--              before it: it may file requests and read them, not the
--              record's debts, statement, payments or documents.
-- The default is the restrictive one; existing taxpayer accounts whose
-- record was written in the registration's own transaction (same instant)
-- or after the account become 'self', the others (records that existed
-- before the account, e.g. synthetic accounts) 'password'.
-- oidc_issuer/oidc_subject name the provider's person behind the account;
-- such an account has no usable password.
ALTER TABLE users ADD COLUMN assurance TEXT NOT NULL DEFAULT 'password' CHECK (assurance IN ('password', 'self', 'verified'));
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
ALTER TABLE users ADD COLUMN oidc_claims_at TIMESTAMPTZ;
UPDATE users SET assurance = 'self'
	WHERE role = 'taxpayer' AND taxpayer_id IS NOT NULL
	  AND EXISTS (SELECT 1 FROM taxpayers t WHERE t.id = users.taxpayer_id AND t.created_at >= users.created_at);
CREATE UNIQUE INDEX users_oidc_subject ON users (municipality_id, oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;

-- A sign-in begun at the provider: the SHA-256 of its state, its nonce and
-- PKCE verifier, where to go after. Single use: the callback deletes the
-- row it finds (DELETE ... RETURNING), so a replayed state finds nothing,
-- on any instance. Rows live a few minutes; expired ones are swept when a
-- new sign-in begins.
CREATE TABLE oidc_logins (
	state_hash TEXT PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	nonce TEXT NOT NULL,
	verifier TEXT NOT NULL,
	next TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_logins_expires ON oidc_logins (expires_at);
