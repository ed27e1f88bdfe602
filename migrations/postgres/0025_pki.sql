-- Signatures others can verify (issue 22). A signing key may carry an X.509
-- certificate from the municipality's CA (signing_keys.certificate, already
-- there); cert_serial (hex) finds it for OCSP and the CRL; a key revoked
-- because its holder may no longer sign has revocation_reason 'revoked', one
-- of an account that was disabled 'holder_disabled' (both revoked for OCSP
-- and the CRL), one replaced by a newer kind of key 'superseded'.
ALTER TABLE signing_keys ADD COLUMN cert_serial TEXT NOT NULL DEFAULT '';
ALTER TABLE signing_keys ADD COLUMN revocation_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX signing_keys_serial ON signing_keys (cert_serial) WHERE cert_serial <> '';

-- A step signed with a certified key keeps its detached CAdES signature
-- (base64 DER CMS) over the step's canonical content (fiscal.StepContent);
-- the signature timestamp is added right after the commit (B-B, then B-T).
-- Empty for Ed25519 steps, whose signature column stays what it was.
ALTER TABLE case_steps ADD COLUMN cms TEXT NOT NULL DEFAULT '';
