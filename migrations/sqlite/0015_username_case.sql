-- Usernames are unique per municipality regardless of case ('ANA' beside
-- 'ana' let one lock the other out and fool people reading a name): the
-- store compares lower(username), and this index both enforces that and
-- serves the sign-in's look-up. lower() folds ASCII alike on both engines,
-- and usernames are printable ASCII (the API's rules).
--
-- Existing accounts that differ only in case would make the index fail with
-- a bare "UNIQUE constraint failed": instead the migration stops and names
-- them (municipality: username, USERNAME), so an administrator renames or
-- merges them and migrates again. SQLite has no statement that raises an
-- error with a message outside a trigger, hence the temporary table whose
-- trigger refuses the one row the check inserts when there are clashes.
CREATE TEMP TABLE username_clashes (message TEXT NOT NULL);
CREATE TEMP TRIGGER username_clashes_refuse BEFORE INSERT ON username_clashes
BEGIN
	SELECT RAISE(ABORT, NEW.message);
END;
INSERT INTO username_clashes (message)
SELECT 'usernames that differ only in case (rename them, then migrate again): ' || group_concat(names, '; ')
FROM (SELECT m.slug || ': ' || group_concat(u.username, ', ') AS names
	FROM users u JOIN municipalities m ON m.id = u.municipality_id
	GROUP BY u.municipality_id, lower(u.username)
	HAVING COUNT(*) > 1)
HAVING COUNT(*) > 0;
DROP TRIGGER username_clashes_refuse;
DROP TABLE username_clashes;

CREATE UNIQUE INDEX users_username_folded ON users (municipality_id, lower(username));
