-- Payments: card (Stripe) and cash payments, their allocations to debts, the
-- taxpayer's credit, refunds, the Stripe events already processed, and the
-- gapless receipt-number counters. Money is BIGINT bani; dates DATE (TEXT
-- 'YYYY-MM-DD' on SQLite); instants TIMESTAMPTZ.

-- A late fee (majorări) is materialised as a debt of kind 'late_fee' when a
-- payment is allocated: parent_debt_id names the principal it accrued on and
-- due_date the day it was computed to (the payment date).
ALTER TABLE debts ADD COLUMN parent_debt_id BIGINT REFERENCES debts(id);
CREATE INDEX debts_parent ON debts (parent_debt_id);

-- One row per taxpayer, locked (UPDATE version) by every use case that
-- allocates money to the taxpayer's debts, so that two settlements never
-- read the same outstanding amounts.
CREATE TABLE taxpayer_accounts (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	taxpayer_id BIGINT NOT NULL REFERENCES taxpayers(id),
	version BIGINT NOT NULL DEFAULT 0,
	UNIQUE (municipality_id, taxpayer_id)
);

CREATE TABLE payments (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	taxpayer_id BIGINT NOT NULL REFERENCES taxpayers(id),
	method TEXT NOT NULL CHECK (method IN ('card', 'cash')),
	provider TEXT NOT NULL,
	provider_reference TEXT,
	status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded')),
	amount_bani BIGINT NOT NULL CHECK (amount_bani > 0),
	refunded_bani BIGINT NOT NULL DEFAULT 0,
	currency TEXT NOT NULL DEFAULT 'RON',
	-- The debts the taxpayer chose (JSON array of ids); '[]' = all, legal order.
	chosen_debts TEXT NOT NULL DEFAULT '[]',
	paid_on DATE,
	receipt_series TEXT,
	receipt_year BIGINT,
	receipt_number BIGINT,
	failure_code TEXT NOT NULL DEFAULT '',
	failure_message TEXT NOT NULL DEFAULT '',
	created_by BIGINT REFERENCES users(id),
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	version BIGINT NOT NULL DEFAULT 1,
	UNIQUE (municipality_id, receipt_series, receipt_year, receipt_number)
);
CREATE UNIQUE INDEX payments_provider_ref ON payments (provider, provider_reference);
CREATE INDEX payments_taxpayer ON payments (municipality_id, taxpayer_id, created_at);

CREATE TABLE refunds (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	payment_id BIGINT NOT NULL REFERENCES payments(id),
	amount_bani BIGINT NOT NULL CHECK (amount_bani > 0),
	reason TEXT NOT NULL,
	-- requested: sent to the provider, not yet effective; succeeded: the
	-- allocations are reversed; failed: the provider refused it.
	status TEXT NOT NULL CHECK (status IN ('requested', 'succeeded', 'failed')),
	provider_reference TEXT,
	-- external: seen in a charge.refunded event without a request of ours
	-- (a refund made in Stripe's dashboard).
	external BOOLEAN NOT NULL DEFAULT FALSE,
	refunded_on DATE,
	created_by BIGINT REFERENCES users(id),
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Money applied to a debt: positive when a payment (source 'payment') or the
-- early-payment bonus (source 'bonus') pays it, negative when a refund
-- reverses it (source 'refund' or 'bonus'). What a debt has been paid is the
-- sum of its rows; nothing is updated or deleted.
CREATE TABLE allocations (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	taxpayer_id BIGINT NOT NULL REFERENCES taxpayers(id),
	payment_id BIGINT NOT NULL REFERENCES payments(id),
	refund_id BIGINT REFERENCES refunds(id),
	debt_id BIGINT NOT NULL REFERENCES debts(id),
	source TEXT NOT NULL CHECK (source IN ('payment', 'refund', 'bonus')),
	amount_bani BIGINT NOT NULL,
	effective_on DATE NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX allocations_debt ON allocations (debt_id);
CREATE INDEX allocations_payment ON allocations (payment_id);
CREATE INDEX allocations_taxpayer ON allocations (municipality_id, taxpayer_id);

-- The taxpayer's credit: overpayments (+), refunds of credit (-), and
-- retroactive recomputation (+ or -). The balance is the sum.
CREATE TABLE credit_entries (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	taxpayer_id BIGINT NOT NULL REFERENCES taxpayers(id),
	payment_id BIGINT REFERENCES payments(id),
	refund_id BIGINT REFERENCES refunds(id),
	source TEXT NOT NULL,
	amount_bani BIGINT NOT NULL,
	effective_on DATE NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX credit_entries_taxpayer ON credit_entries (municipality_id, taxpayer_id);
CREATE INDEX credit_entries_payment ON credit_entries (payment_id);

-- Stripe events already applied (deduplication by event id).
CREATE TABLE stripe_events (
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	event_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	payment_id BIGINT REFERENCES payments(id),
	received_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (municipality_id, event_id)
);

-- Receipt numbers: one counter per municipality, series and year, advanced
-- inside the paying transaction (so a rollback gives the number back: no gaps,
-- no repeats).
CREATE TABLE receipt_counters (
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	series TEXT NOT NULL,
	year BIGINT NOT NULL,
	next_number BIGINT NOT NULL,
	PRIMARY KEY (municipality_id, series, year)
);
