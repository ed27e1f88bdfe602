-- Every request type runs on a definition (issue 17): the service ships one
-- per built-in type as its version 1 (fiscal.ShippedDefinition), so the
-- cases filed before run on it. A case already reviewed waits at its sign
-- step since it was reviewed (its last change).
UPDATE cases SET definition_version = 1 WHERE definition_version IS NULL;
UPDATE cases SET route_step = 'sign', route_step_since = date(updated_at) WHERE status = 'reviewed' AND route_step IS NULL;
