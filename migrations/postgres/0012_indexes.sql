-- Indexes found missing by storetest's check of every cached statement's
-- query plan (store.TableScans) and by the load test's profile: case intake
-- looked up the taxpayer's account and the officers of the municipality by
-- reading the whole users table.
CREATE INDEX users_taxpayer ON users (taxpayer_id);
CREATE INDEX users_role ON users (municipality_id, role);
CREATE INDEX case_attachments_case ON case_attachments (case_id);
CREATE INDEX signing_keys_municipality ON signing_keys (municipality_id);
