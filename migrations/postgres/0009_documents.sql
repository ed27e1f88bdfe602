-- Documents the municipality issues as signed PDFs: fiscal clearance
-- certificates, proofs of a vehicle's entry in or removal from the fiscal
-- record, tax decisions and payment receipts. The PDF is kept by SHA-256 in
-- the blob store (FISCAL_DATA_DIR/attachments); the row holds what the public
-- verification page shows (never the debts or the full name).

-- One gapless number series per document type, municipality and year: the
-- issuing transaction increments the row, so a rolled-back issue uses no
-- number. (Receipts keep the payments' receipt_counters series.)
CREATE TABLE document_counters (
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	type TEXT NOT NULL,
	year INTEGER NOT NULL,
	last_number BIGINT NOT NULL,
	PRIMARY KEY (municipality_id, type, year)
);

CREATE TABLE documents (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	type TEXT NOT NULL CHECK (type IN ('fiscal_clearance', 'vehicle_registration', 'vehicle_deregistration', 'tax_decision', 'receipt')),
	number TEXT NOT NULL,
	taxpayer_id BIGINT NOT NULL REFERENCES taxpayers(id),
	-- The holder's name as the verification page shows it ("A** P******").
	holder_masked TEXT NOT NULL,
	issued_on DATE NOT NULL,
	valid_until DATE,
	issued_at TIMESTAMPTZ NOT NULL,
	-- At least 128 random bits, base32: the capability printed in the QR code.
	verification_code TEXT NOT NULL UNIQUE,
	sha256 TEXT NOT NULL,
	size BIGINT NOT NULL,
	case_id BIGINT REFERENCES cases(id),
	payment_id BIGINT REFERENCES payments(id),
	assessment_id BIGINT REFERENCES assessments(id),
	vehicle_id BIGINT REFERENCES vehicles(id),
	issued_by BIGINT REFERENCES users(id),
	revoked_at TIMESTAMPTZ,
	UNIQUE (municipality_id, type, number)
);
CREATE INDEX documents_taxpayer ON documents (municipality_id, taxpayer_id, issued_at);
-- One signed receipt per payment.
CREATE UNIQUE INDEX documents_receipt ON documents (municipality_id, payment_id) WHERE type = 'receipt';
