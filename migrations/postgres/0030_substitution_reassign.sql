-- Absences (issue 17): when a substitution's from_on arrives, the absent
-- person's open cases go to the substitute (internal/store/substitutions.go).
-- reassigned_at is the claim: set once, in the transaction that moves the
-- cases, so several instances sweeping move them once. The sweep reads the
-- unclaimed rows due today from the partial index (empty when nothing is
-- pending, whatever the number of past substitutions).
ALTER TABLE substitutions ADD COLUMN reassigned_at TIMESTAMPTZ;
CREATE INDEX substitutions_due ON substitutions (from_on) WHERE reassigned_at IS NULL;
