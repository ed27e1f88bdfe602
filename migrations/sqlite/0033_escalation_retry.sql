-- Loose ends of issue 17 (internal/store/caseescalate.go, substitutions.go).
--
-- route_step_seq: the seq of the signed step that opened the top-level step
-- the case waits at (kept with route_step by each move; NULL: nothing moved
-- the route since filing, every act counts). A branch of a parallel group is
-- taken in the current round when the case has an act on it with a larger
-- seq: the escalation sweep skips a rule naming a branch already taken while
-- the group waits for the others. Filled here for the cases in flight from
-- their last act outside the group they wait at (or their last move to
-- another version).
ALTER TABLE cases ADD COLUMN route_step_seq INTEGER;
UPDATE cases SET route_step_seq = (SELECT MAX(s.seq) FROM case_steps s WHERE s.case_id = cases.id
	AND (s.action = 'migrate' OR (s.action = 'act' AND substr(s.step, 1, length(cases.route_step) + 1) <> cases.route_step || '.')))
WHERE route_step IS NOT NULL AND decided_at IS NULL;

-- done_at: when the escalation was carried out. Notices, warnings and
-- reassignments are done in the transaction that claims them; a deemed
-- decision is claimed with done_at NULL and done in the transaction of the
-- system's act (or when the act is found not due any more), so a claim
-- whose process died before the act is taken by the next sweep on any
-- instance, once. The rows claimed before this migration are done.
ALTER TABLE case_escalations ADD COLUMN done_at TIMESTAMP;
UPDATE case_escalations SET done_at = at;
CREATE INDEX case_escalations_pending ON case_escalations (at) WHERE done_at IS NULL;

-- The substitutions in force on a day (chains of substitutes: the
-- substitute of an absent person may be absent too).
CREATE INDEX substitutions_in_force ON substitutions (municipality_id, to_on);
