-- audit_append chains a transaction's audit entries in one statement
-- (issue 15/21: the chain's head, which every writer of a municipality
-- shares, is held from this statement to the commit, with no round trip
-- to the server in between). Before, the head was taken by one statement,
-- the entries hashed in Go and written by a second one; under load on two
-- cores each round trip while holding the head made every other writer of
-- the municipality wait longer.
--
-- p_entries is a JSON array of entries in chain order, each with the
-- columns of audit_log and "tail": the entry's fields after its sequence
-- number, encoded as auditHash (internal/store/audit.go) encodes them
-- (each "<byte length>:<value>;"). The hash is SHA-256 over
-- "<len>:<previous hash>;<len>:<seq>;" || tail, in hex: exactly what
-- auditHash computes, so `fiscald audit verify` checks it the same way.
-- The first entry of a municipality creates its head (previous hash: 64
-- zeros).
CREATE FUNCTION audit_append(p_muni BIGINT, p_entries JSONB) RETURNS TABLE (last_seq BIGINT, last_hash TEXT)
LANGUAGE plpgsql AS $$
DECLARE
	v_n BIGINT := jsonb_array_length(p_entries);
	v_seq BIGINT;
	v_hash TEXT;
	v_prev TEXT;
	v_e JSONB;
BEGIN
	-- The first entries of a municipality create its head; two first
	-- writers at once queue on the key like any two.
	INSERT INTO audit_heads (municipality_id, seq, hash) VALUES (p_muni, v_n, repeat('0', 64))
		ON CONFLICT (municipality_id) DO UPDATE SET seq = audit_heads.seq + v_n
		RETURNING audit_heads.seq, audit_heads.hash INTO v_seq, v_hash;
	v_seq := v_seq - v_n;
	FOR v_e IN SELECT value FROM jsonb_array_elements(p_entries) LOOP
		v_seq := v_seq + 1;
		v_prev := v_hash;
		v_hash := encode(sha256(convert_to(octet_length(v_prev) || ':' || v_prev || ';' || octet_length(v_seq::text) || ':' || v_seq::text || ';' || (v_e->>'tail'), 'UTF8')), 'hex');
		INSERT INTO audit_log (municipality_id, seq, at, actor_id, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash)
		VALUES (p_muni, v_seq, (v_e->>'at')::timestamptz, (v_e->>'actor_id')::bigint, v_e->>'actor', v_e->>'action', v_e->>'entity',
			v_e->>'entity_id', v_e->>'before', v_e->>'after', v_prev, v_hash);
	END LOOP;
	UPDATE audit_heads SET hash = v_hash WHERE audit_heads.municipality_id = p_muni;
	last_seq := v_seq;
	last_hash := v_hash;
	RETURN NEXT;
END
$$;
