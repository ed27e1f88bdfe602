-- The one-time ids of the portal's anonymous forms, registration and
-- enrollment (internal/store/formclaims.go, internal/portal/formonce.go).
-- A signed-in user's form id is an Idempotency-Key of that user
-- (idempotency_keys); these forms have no user yet. The use case that opens
-- the account inserts the claim as the first statement of the account's
-- transaction, so a row means the account was created: the row is the
-- outcome, and a sending of the same form again is answered "done, sign in"
-- without opening a second account. key_hash is the SHA-256 of the form id
-- (the id is random and only tells two sendings apart); form is the form's
-- path. No personal data. Kept a day: the store deletes older rows.
CREATE TABLE anonymous_form_claims (
    id INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    form TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (municipality_id, form, key_hash)
);
CREATE INDEX anonymous_form_claims_created ON anonymous_form_claims (created_at);
