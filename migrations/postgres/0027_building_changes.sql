-- Changes of a building and co-owners not yet in the registry (issue 18).
--
-- building_history: the attributes a holding had up to and including
-- until_year, before a change of the building (extension, change of use)
-- took effect on 1 January of until_year + 1. The tax of year Y reads the
-- row with the smallest until_year >= Y, else buildings.attributes.
CREATE TABLE building_history (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	building_id BIGINT NOT NULL REFERENCES buildings(id),
	until_year BIGINT NOT NULL,
	attributes TEXT NOT NULL,
	case_id BIGINT REFERENCES cases(id),
	created_at TIMESTAMPTZ NOT NULL,
	UNIQUE (building_id, until_year)
);

-- pending_holdings: a co-owner named in an approved acquisition who was not
-- in the registry. Their share stays reserved (counted in the shares of the
-- cadastral number) and is entered, taxed from taxed_from_year, in the
-- transaction that inserts a taxpayer with that CNP/CUI.
CREATE TABLE pending_holdings (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	case_id BIGINT NOT NULL REFERENCES cases(id),
	kind TEXT NOT NULL CHECK (kind IN ('building', 'land')),
	identity TEXT NOT NULL,
	name TEXT NOT NULL,
	share_parts BIGINT NOT NULL CHECK (share_parts > 0 AND share_parts <= 10000),
	cadastral_number TEXT NOT NULL,
	source_holding_id BIGINT NOT NULL,
	taxed_from_year BIGINT NOT NULL,
	entered_holding_id BIGINT,
	entered_at TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX pending_holdings_identity ON pending_holdings (municipality_id, identity) WHERE entered_at IS NULL;
CREATE INDEX pending_holdings_cadastral ON pending_holdings (municipality_id, kind, cadastral_number) WHERE entered_at IS NULL;
