-- A card payment or refund remembers the Idempotency-Key claim of the
-- request that started it, so that a retry with the same key continues
-- that operation (same Stripe idempotency key) instead of starting another
-- when the first attempt never learnt Stripe's answer.
ALTER TABLE payments ADD COLUMN claim_id BIGINT REFERENCES idempotency_keys(id);
ALTER TABLE refunds ADD COLUMN claim_id BIGINT REFERENCES idempotency_keys(id);
CREATE UNIQUE INDEX payments_claim ON payments (claim_id) WHERE claim_id IS NOT NULL;
CREATE UNIQUE INDEX refunds_claim ON refunds (claim_id) WHERE claim_id IS NOT NULL;
