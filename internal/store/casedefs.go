package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"fiscald/fiscal"
)

// Request types' definitions: the shipped and published versions read and
// kept in memory (definition, definitionAt, currentDefinition, knownDef),
// an admin's publication of a type's next version (PublishCaseType) and the
// list of current versions (PublishedCaseTypes). Taking a case's steps is
// in caseact.go, moving open cases to another version in casemigrate.go.
//
// Request types as data: every case runs on a definition, the shipped one
// of a built-in type (fiscal.ShippedDefinition, version 1, in code) or a
// version a municipality published (case_definitions, migration 0022). The
// store files cases under the version current at filing
// (cases.definition_version) and runs their routes: every act is a signed
// case step (action review or sign for the steps of those names, else
// "act"; the step's full name in step) in one transaction with its
// timeline line, notification and audit entry. The route's rules are pure
// (fiscal.CaseDefinition: Take, Replay, Open, StatusAt).

// publishedDef is one version of a published type; versions never change
// once published, so every instance may keep them in memory (db.defs).
type publishedDef struct {
	def         *fiscal.CaseDefinition
	ct          *fiscal.CaseType
	version     int64
	publishedAt time.Time
}

type defRow struct {
	Type        string    `db:"type"`
	Version     int64     `db:"version"`
	Body        string    `db:"body"`
	PublishedAt time.Time `db:"published_at"`
}

func defKey(municipalityID int64, typ string, version int64) string {
	return fmt.Sprintf("%d/%s/%d", municipalityID, typ, version)
}

// parseDef reads a stored definition (checked when it was published).
func (db *DB) parseDef(municipalityID int64, r *defRow) (*publishedDef, error) {
	if p, ok := db.defs.Load(defKey(municipalityID, r.Type, r.Version)); ok {
		return p.(*publishedDef), nil
	}
	var d fiscal.CaseDefinition
	if err := json.Unmarshal([]byte(r.Body), &d); err != nil {
		return nil, fiscal.Internal(err, "the stored definition of "+r.Type)
	}
	p := &publishedDef{def: &d, ct: d.CaseType(), version: r.Version, publishedAt: r.PublishedAt}
	db.defs.Store(defKey(municipalityID, r.Type, r.Version), p)
	return p, nil
}

// shippedDefs are the definitions the service ships (one per effect, the
// same in every municipality), as version fiscal.ShippedVersion.
var shippedDefs sync.Map // type → *publishedDef

// shippedDef returns the shipped definition of a type, or nil.
func shippedDef(typ string) *publishedDef {
	if p, ok := shippedDefs.Load(typ); ok {
		return p.(*publishedDef)
	}
	d, ok := fiscal.ShippedDefinition(typ)
	if !ok {
		return nil
	}
	p, _ := shippedDefs.LoadOrStore(typ, &publishedDef{def: d, ct: d.CaseType(), version: fiscal.ShippedVersion})
	return p.(*publishedDef)
}

// knownDef is a version of a type found without the database: the shipped
// definition (version 1 of a shipped type), or a publication this process
// has read before (versions never change); nil otherwise.
func (db *DB) knownDef(municipalityID int64, typ string, version int64) *publishedDef {
	if version == fiscal.ShippedVersion {
		if p := shippedDef(typ); p != nil {
			return p
		}
	}
	if p, ok := db.defs.Load(defKey(municipalityID, typ, version)); ok {
		return p.(*publishedDef)
	}
	return nil
}

// definition returns a version of a type: the shipped definition for a
// shipped type's first version, else the municipality's publication.
func (tx *Tx) definition(ctx context.Context, municipalityID int64, typ string, version int64) (*publishedDef, error) {
	if p := tx.db.knownDef(municipalityID, typ, version); p != nil {
		return p, nil
	}
	var r defRow
	if err := tx.Get(ctx, &r, `SELECT type, version, body, published_at FROM case_definitions WHERE municipality_id = ? AND type = ? AND version = ?`,
		municipalityID, typ, version); err != nil {
		return nil, translate(err, "case definition")
	}
	return tx.db.parseDef(municipalityID, &r)
}

// definitionAt returns a version of a type outside a transaction.
func (db *DB) definitionAt(ctx context.Context, municipalityID int64, typ string, version int64) (*publishedDef, error) {
	if p := db.knownDef(municipalityID, typ, version); p != nil {
		return p, nil
	}
	var r defRow
	if err := db.get(ctx, &r, `SELECT type, version, body, published_at FROM case_definitions WHERE municipality_id = ? AND type = ? AND version = ?`,
		municipalityID, typ, version); err != nil {
		return nil, translate(err, "case definition")
	}
	return db.parseDef(municipalityID, &r)
}

// currentDefinition returns the current version of a type: the
// municipality's latest publication, else the shipped definition; nil
// when there is neither.
func (db *DB) currentDefinition(ctx context.Context, municipalityID int64, typ string) (*publishedDef, error) {
	var r defRow
	err := db.get(ctx, &r, `SELECT type, version, body, published_at FROM case_definitions WHERE municipality_id = ? AND type = ? ORDER BY version DESC LIMIT 1`,
		municipalityID, typ)
	if err = translate(err, "case definition"); fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
		return shippedDef(typ), nil
	} else if err != nil {
		return nil, err
	}
	return db.parseDef(municipalityID, &r)
}

// PublishCaseType checks a definition and publishes it as its type's next
// version. Two publications of one type at once never get one version:
// the (municipality, type, version) key refuses the second, which takes
// the next number.
func (db *DB) PublishCaseType(ctx context.Context, body json.RawMessage, dryRun bool) (*fiscal.PublishedType, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	d, err := fiscal.ParseDefinition(body)
	if err != nil {
		return nil, err
	}
	canon, err := json.Marshal(d)
	if err != nil {
		return nil, fiscal.Internal(err, "definition")
	}
	out := &fiscal.PublishedType{Type: d.Type}
	if dryRun {
		plan := d.DryRun()
		out.DryRun, out.Route = true, &plan
		if cur, err := db.currentDefinition(ctx, a.MunicipalityID, d.Type); err != nil {
			return nil, err
		} else if cur != nil {
			out.Version = cur.version + 1
		} else {
			out.Version = 1
		}
		return out, nil
	}
	var by *int64
	if !a.System {
		id := a.UserID
		by = &id
	}
	for attempt := 0; ; attempt++ {
		err = db.InTx(ctx, func(tx *Tx) error {
			if tx.db.dialect == "postgres" {
				// Publications of one type queue here, on any instance, so
				// the next version below is theirs (SQLite's writer already
				// queues them); the unique key stays the guarantee.
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, fmt.Sprintf("case_type:%d:%s", a.MunicipalityID, d.Type)); err != nil {
					return translate(err, "case definitions")
				}
			}
			var v int64
			if err := tx.Get(ctx, &v, `SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM case_definitions WHERE municipality_id = ? AND type = ?`,
				a.MunicipalityID, d.Type); err != nil {
				return translate(err, "case definitions")
			}
			if shippedDef(d.Type) != nil {
				v = max(v, fiscal.ShippedVersion+1) // the shipped definition is version 1
			}
			id, err := tx.Insert(ctx, `INSERT INTO case_definitions (municipality_id, type, version, body, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?)`,
				a.MunicipalityID, d.Type, v, string(canon), tx.Now, by)
			if isUniqueViolation(err) {
				return errVersionTaken
			}
			if err != nil {
				return translate(err, "case definition")
			}
			out.Version = v
			return tx.Audit(ctx, a.MunicipalityID, "case_type.publish", "case_definition", id, nil,
				map[string]any{"type": d.Type, "version": v, "definition": json.RawMessage(canon)})
		})
		if err != errVersionTaken || attempt >= 4 {
			break
		}
	}
	if err == errVersionTaken {
		return nil, fiscal.Errorf(fiscal.ECONFLICT, "the type %s is being published by someone else at the same time; try again", d.Type)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

var errVersionTaken = fiscal.Errorf(fiscal.ECONFLICT, "version taken")

// PublishedCaseTypes lists the current version of each type of the
// municipality: its publications and the shipped types it has not
// published a version of (their version 1), by type.
func (db *DB) PublishedCaseTypes(ctx context.Context, municipalityID int64) ([]*fiscal.CaseTypeVersion, error) {
	var rows []defRow
	if err := db.selectx(ctx, &rows, `SELECT d.type, d.version, d.body, d.published_at FROM case_definitions d WHERE d.municipality_id = ?
		AND d.version = (SELECT MAX(x.version) FROM case_definitions x WHERE x.municipality_id = d.municipality_id AND x.type = d.type) ORDER BY d.type`,
		municipalityID); err != nil {
		return nil, translate(err, "case definitions")
	}
	defs := make([]*publishedDef, 0, len(rows)+len(fiscal.CaseTypes()))
	published := map[string]bool{}
	for i := range rows {
		p, err := db.parseDef(municipalityID, &rows[i])
		if err != nil {
			return nil, err
		}
		defs, published[p.def.Type] = append(defs, p), true
	}
	for _, t := range fiscal.CaseTypes() {
		if !published[t.Name] {
			defs = append(defs, shippedDef(t.Name))
		}
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].def.Type < defs[j].def.Type })
	out := make([]*fiscal.CaseTypeVersion, 0, len(defs))
	for _, p := range defs {
		d := p.def
		// A type with an effect lists the effect's documents.
		docs := p.ct.Documents
		if docs == nil {
			docs = []fiscal.DocumentKind{}
		}
		form := d.Form
		if form.Fields == nil {
			form.Fields = []fiscal.DefField{} // a type with an effect: its fields (if simple) are in Fields
		}
		v := &fiscal.CaseTypeVersion{Type: d.Type, Title: d.Title, TitleEN: d.TitleEN, Effect: d.Effect, Version: p.version,
			SLAWorkingDays: d.SLAWorkingDays, Form: form, Fields: p.ct.Fields, Documents: docs, Steps: d.Steps}
		if !p.publishedAt.IsZero() {
			at := p.publishedAt.UTC()
			v.PublishedAt = &at
		}
		out = append(out, v)
	}
	return out, nil
}
