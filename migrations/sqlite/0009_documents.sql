-- Documents the municipality issues as signed PDFs: fiscal clearance
-- certificates, proofs of a vehicle's entry in or removal from the fiscal
-- record, tax decisions and payment receipts. The PDF is kept by SHA-256 in
-- the blob store (FISCAL_DATA_DIR/attachments); the row holds what the public
-- verification page shows (never the debts or the full name).

-- One gapless number series per document type, municipality and year: the
-- issuing transaction increments the row, so a rolled-back issue uses no
-- number. (Receipts keep the payments' receipt_counters series.)
CREATE TABLE document_counters (
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	type TEXT NOT NULL,
	year INTEGER NOT NULL,
	last_number INTEGER NOT NULL,
	PRIMARY KEY (municipality_id, type, year)
);

CREATE TABLE documents (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	type TEXT NOT NULL CHECK (type IN ('fiscal_clearance', 'vehicle_registration', 'vehicle_deregistration', 'tax_decision', 'receipt')),
	number TEXT NOT NULL,
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	-- The holder's name as the verification page shows it ("A** P******").
	holder_masked TEXT NOT NULL,
	issued_on TEXT NOT NULL,
	valid_until TEXT,
	issued_at TIMESTAMP NOT NULL,
	-- At least 128 random bits, base32: the capability printed in the QR code.
	verification_code TEXT NOT NULL UNIQUE,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	case_id INTEGER REFERENCES cases(id),
	payment_id INTEGER REFERENCES payments(id),
	assessment_id INTEGER REFERENCES assessments(id),
	vehicle_id INTEGER REFERENCES vehicles(id),
	issued_by INTEGER REFERENCES users(id),
	revoked_at TIMESTAMP,
	UNIQUE (municipality_id, type, number)
);
CREATE INDEX documents_taxpayer ON documents (municipality_id, taxpayer_id, issued_at);
-- One signed receipt per payment.
CREATE UNIQUE INDEX documents_receipt ON documents (municipality_id, payment_id) WHERE type = 'receipt';
