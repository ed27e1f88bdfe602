-- PostgreSQL only (see migrations/postgres/0034): there a foreign key check
-- locks the parent row, and every request's checks on the same municipality
-- and user rows became MultiXacts. SQLite's checks are index look-ups that
-- take no lock: its foreign keys stay.
SELECT 1;
