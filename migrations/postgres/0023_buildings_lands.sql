-- Buildings and land in the fiscal record (issue 18).
--
-- A row of buildings (0005) or lands is one owner's holding of an object:
-- the object's data (attributes: the engine's calc.Object as JSON, plus the
-- address and cadastral number) and that owner's share in parts per 10,000
-- (share_parts: 6000 = 60%, exact, never a float). Co-owners are the other
-- current holdings (disposed_on IS NULL) of the same cadastral number. Each
-- holding is assessed on its own (assessments.object_id = the holding's id),
-- so each co-owner owes the tax on their share (art. 455 alin. (3), 463
-- alin. (3)) with the <= 50 lei rule and the bonus on their own sum.
-- taxed_from_year: 1 January after the acquisition (art. 456, 466); 0 on
-- rows written before this migration or by the synthetic generator means
-- "the year after acquired_on".
ALTER TABLE buildings ADD COLUMN cadastral_number TEXT NOT NULL DEFAULT '';
ALTER TABLE buildings ADD COLUMN share_parts BIGINT NOT NULL DEFAULT 10000 CHECK (share_parts > 0 AND share_parts <= 10000);
ALTER TABLE buildings ADD COLUMN taxed_from_year BIGINT NOT NULL DEFAULT 0;
-- Companies' buildings: the date of the valuation their taxable value comes from.
ALTER TABLE buildings ADD COLUMN valuation_date DATE;
ALTER TABLE buildings ADD COLUMN case_id BIGINT REFERENCES cases(id);
UPDATE buildings SET taxed_from_year = CAST(EXTRACT(YEAR FROM acquired_on) AS BIGINT) + 1;
CREATE INDEX buildings_cadastral ON buildings (municipality_id, cadastral_number) WHERE disposed_on IS NULL AND cadastral_number <> '';

CREATE TABLE lands (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	taxpayer_id BIGINT NOT NULL REFERENCES taxpayers(id),
	address TEXT NOT NULL DEFAULT '',
	cadastral_number TEXT NOT NULL DEFAULT '',
	attributes TEXT NOT NULL DEFAULT '{}',
	share_parts BIGINT NOT NULL DEFAULT 10000 CHECK (share_parts > 0 AND share_parts <= 10000),
	acquired_on DATE NOT NULL,
	disposed_on DATE,
	taxed_from_year BIGINT NOT NULL DEFAULT 0,
	case_id BIGINT REFERENCES cases(id),
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX lands_taxpayer ON lands (municipality_id, taxpayer_id);
CREATE INDEX lands_cadastral ON lands (municipality_id, cadastral_number) WHERE disposed_on IS NULL AND cadastral_number <> '';
