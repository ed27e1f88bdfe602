package store

import (
	"context"

	"fiscald/fiscal"
)

// Municipalities: read by slug (MunicipalityBySlug), created
// (CreateMunicipality), their slug (municipalitySlug, kept in memory: a slug
// never changes) and the plausibility bounds of amounts their settings set
// (amountLimits).

// MunicipalityBySlug returns ENOTFOUND for an unknown slug.
func (db *DB) MunicipalityBySlug(ctx context.Context, slug string) (*fiscal.Municipality, error) {
	var m fiscal.Municipality
	err := db.db.GetContext(ctx, &m, db.db.Rebind(`SELECT id, slug, name, rank, county, settings FROM municipalities WHERE slug = ?`), slug)
	if err != nil {
		return nil, translate(err, "municipality "+slug)
	}
	return &m, nil
}

// CreateMunicipality returns ECONFLICT when the slug exists.
func (db *DB) CreateMunicipality(ctx context.Context, m *fiscal.Municipality) error {
	if m.Settings == "" {
		m.Settings = "{}"
	}
	return db.InTx(ctx, func(tx *Tx) error {
		id, err := tx.Insert(ctx, `INSERT INTO municipalities (slug, name, rank, county, settings, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.Slug, m.Name, m.Rank, m.County, m.Settings, tx.Now)
		if err != nil {
			return translate(err, "municipality "+m.Slug)
		}
		m.ID = id
		return tx.Audit(ctx, id, "municipality.create", "municipality", id, nil, m)
	})
}

// amountLimits reads the plausibility bounds of a municipality's settings
// (fiscal.AmountLimitsFrom); it runs before the use case's transaction.
func (db *DB) amountLimits(ctx context.Context, municipalityID int64) (fiscal.AmountLimits, error) {
	var settings string
	err := db.db.GetContext(ctx, &settings, db.db.Rebind(`SELECT settings FROM municipalities WHERE id = ?`), municipalityID)
	if err != nil {
		return fiscal.AmountLimits{}, translate(err, "municipality")
	}
	return fiscal.AmountLimitsFrom(settings), nil
}

// municipalitySlug returns a municipality's slug, cached in the DB (a slug
// never changes).
func (db *DB) municipalitySlug(ctx context.Context, muni int64) (string, error) {
	q := db.db
	if s, ok := db.slugs.Load(muni); ok {
		return s.(string), nil
	}
	var slug string
	err := q.GetContext(ctx, &slug, q.Rebind(`SELECT slug FROM municipalities WHERE id = ?`), muni)
	if err != nil {
		return "", translate(err, "municipality")
	}
	db.slugs.Store(muni, slug)
	return slug, nil
}
