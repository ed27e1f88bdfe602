-- Retroactive recomputation, credit use and card reconciliation.
--
-- recompute_runs: one row per recomputation of a municipality's tax year.
-- Each batch commits its changes with the run's cursor (the last taxpayer
-- whose assessments are recomputed), so a run killed at any moment resumes
-- after the last committed batch; at most one unfinished run per year.
CREATE TABLE recompute_runs (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	year INTEGER NOT NULL,
	cursor_taxpayer_id INTEGER NOT NULL DEFAULT 0,
	batches INTEGER NOT NULL DEFAULT 0,
	objects INTEGER NOT NULL DEFAULT 0,
	up INTEGER NOT NULL DEFAULT 0,
	down INTEGER NOT NULL DEFAULT 0,
	unchanged INTEGER NOT NULL DEFAULT 0,
	failed INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	started_by INTEGER REFERENCES users(id),
	started_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	finished_at TIMESTAMP
);
CREATE UNIQUE INDEX recompute_runs_open ON recompute_runs (municipality_id, year) WHERE finished_at IS NULL;

-- A run's money by budget code: extra debt (adjustment debts), debt
-- withdrawn (unpaid instalments reduced) and credit (paid excess).
CREATE TABLE recompute_totals (
	run_id INTEGER NOT NULL REFERENCES recompute_runs(id),
	budget_code TEXT NOT NULL,
	extra_bani INTEGER NOT NULL DEFAULT 0,
	reduced_bani INTEGER NOT NULL DEFAULT 0,
	credit_bani INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, budget_code)
);

-- A debt that replaces a cancelled one (a recomputation reduced it).
ALTER TABLE debts ADD COLUMN replaces_debt_id INTEGER REFERENCES debts(id);

-- Credit refunded on request by bank transfer. There is no bank
-- integration: the row is the instruction for the treasury, status
-- pending_transfer until someone marks it done.
CREATE TABLE credit_refunds (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	amount_bani INTEGER NOT NULL CHECK (amount_bani > 0),
	reason TEXT NOT NULL,
	iban TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending_transfer', 'transferred', 'cancelled')),
	created_by INTEGER REFERENCES users(id),
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX credit_refunds_taxpayer ON credit_refunds (municipality_id, taxpayer_id);
ALTER TABLE credit_entries ADD COLUMN credit_refund_id INTEGER REFERENCES credit_refunds(id);

-- Imports of the card processor's balance transactions.
CREATE TABLE reconciliation_imports (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	provider TEXT NOT NULL,
	payout_id TEXT NOT NULL DEFAULT '',
	created_from TIMESTAMP,
	created_to TIMESTAMP,
	transactions INTEGER NOT NULL DEFAULT 0,
	new_transactions INTEGER NOT NULL DEFAULT 0,
	created_by INTEGER REFERENCES users(id),
	created_at TIMESTAMP NOT NULL
);

-- The processor's balance transactions, once each (by its id). Amounts in
-- bani as the processor reports them (refunds negative).
CREATE TABLE provider_transactions (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	provider TEXT NOT NULL,
	transaction_id TEXT NOT NULL,
	type TEXT NOT NULL,
	amount_bani INTEGER NOT NULL,
	fee_bani INTEGER NOT NULL,
	net_bani INTEGER NOT NULL,
	currency TEXT NOT NULL,
	source TEXT NOT NULL DEFAULT '',
	payment_intent_id TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT '',
	payout_id TEXT NOT NULL DEFAULT '',
	created TIMESTAMP NOT NULL,
	import_id INTEGER NOT NULL REFERENCES reconciliation_imports(id),
	UNIQUE (municipality_id, provider, transaction_id)
);
CREATE INDEX provider_transactions_created ON provider_transactions (municipality_id, created);
CREATE INDEX provider_transactions_intent ON provider_transactions (municipality_id, payment_intent_id);
