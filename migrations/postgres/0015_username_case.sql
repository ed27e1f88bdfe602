-- Usernames are unique per municipality regardless of case ('ANA' beside
-- 'ana' let one lock the other out and fool people reading a name): the
-- store compares lower(username), and this index both enforces that and
-- serves the sign-in's look-up. lower() folds ASCII alike on both engines,
-- and usernames are printable ASCII (the API's rules).
--
-- Existing accounts that differ only in case would make the index fail with
-- a bare unique violation: instead the migration stops and names them
-- (municipality: username, USERNAME), so an administrator renames or merges
-- them and migrates again.
DO $$
DECLARE
	clashes TEXT;
BEGIN
	SELECT string_agg(names, '; ') INTO clashes
	FROM (SELECT m.slug || ': ' || string_agg(u.username, ', ' ORDER BY u.username) AS names
		FROM users u JOIN municipalities m ON m.id = u.municipality_id
		GROUP BY u.municipality_id, m.slug, lower(u.username)
		HAVING COUNT(*) > 1) c;
	IF clashes IS NOT NULL THEN
		RAISE EXCEPTION 'usernames that differ only in case (rename them, then migrate again): %', clashes;
	END IF;
END $$;

CREATE UNIQUE INDEX users_username_folded ON users (municipality_id, lower(username));
