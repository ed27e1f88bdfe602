package store

import (
	"context"
	"sort"

	"fiscald/fiscal"
)

// Personal data (GDPR): staff reads of a taxpayer's record logged
// (logAccess) and listed for the taxpayer or an admin (AccessLog), and
// everything held about a taxpayer exported table by table (ExportTaxpayer;
// personalData lists the tables, a test checks it is complete).

// logAccess records that a member of staff read a taxpayer's personal data.
// Taxpayers reading their own record and system jobs are not logged.
func (db *DB) logAccess(ctx context.Context, a *fiscal.Actor, taxpayerID int64, action string) error {
	if a == nil || a.System || !a.IsStaff() {
		return nil
	}
	// Through InTx, so that on SQLite it queues with the process's other
	// writers instead of starving on the busy handler. The entry is not the
	// request's effect: it must not claim the request's Idempotency-Key
	// (a cash payment reads its taxpayer first; a crash between the two
	// transactions left the key claimed without the payment, found by
	// TestKillAtFaultPoint).
	ctx = fiscal.WithIdempotencyClaim(ctx, nil)
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO taxpayer_access_log (municipality_id, taxpayer_id, user_id, action, at) VALUES (?, ?, ?, ?, ?)`,
			a.MunicipalityID, taxpayerID, a.UserID, action, tx.Now)
		return translate(err, "access log")
	})
}

// AccessLog lists who viewed a taxpayer's record, newest first: for the
// taxpayer themself and for admins.
func (db *DB) AccessLog(ctx context.Context, taxpayerID int64) ([]fiscal.AccessLogEntry, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.Has(fiscal.RoleAdmin) && (a.TaxpayerID == nil || *a.TaxpayerID != taxpayerID) {
		if a.IsStaff() {
			return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "only an admin or the taxpayer reads the access log")
		}
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	if !a.IsStaff() && !a.Assurance.SeesRecord() {
		return nil, fiscal.ErrRecordNotVerified()
	}
	// The taxpayer must be of the actor's municipality: an admin elsewhere
	// gets 404, not an empty log that confirms nothing but answers 200.
	var n int
	if err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT COUNT(*) FROM taxpayers WHERE municipality_id = ? AND id = ?`), a.MunicipalityID, taxpayerID); err != nil {
		return nil, translate(err, "taxpayer")
	}
	if n == 0 {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	out := []fiscal.AccessLogEntry{}
	err = db.db.SelectContext(ctx, &out, db.db.Rebind(`SELECT l.at, l.action, u.username, u.role FROM taxpayer_access_log l JOIN users u ON u.id = l.user_id
		WHERE l.municipality_id = ? AND l.taxpayer_id = ? ORDER BY l.at DESC, l.id DESC LIMIT 1000`), a.MunicipalityID, taxpayerID)
	return out, translate(err, "access log")
}

// personalData lists every table holding rows about a taxpayer, with the
// column that links them; a test fails when a table with a taxpayer_id
// column is missing here, so a GDPR export cannot silently leave data out.
var personalData = []struct{ table, column string }{
	{"taxpayers", "id"},
	{"users", "taxpayer_id"},
	{"vehicles", "taxpayer_id"},
	{"buildings", "taxpayer_id"},
	{"lands", "taxpayer_id"},
	{"assessments", "taxpayer_id"},
	{"debts", "taxpayer_id"},
	{"taxpayer_access_log", "taxpayer_id"},
	{"taxpayer_accounts", "taxpayer_id"},
	{"payments", "taxpayer_id"},
	{"allocations", "taxpayer_id"},
	{"credit_entries", "taxpayer_id"},
	{"credit_refunds", "taxpayer_id"},
	{"cases", "taxpayer_id"},
	{"documents", "taxpayer_id"},
	{"enrollment_codes", "taxpayer_id"},
	{"representations", "taxpayer_id"}, // the persons linked to a company
}

// secretColumns never leave the database, not even in an export.
var secretColumns = map[string]bool{"password_hash": true, "token_hash": true, "private_key": true, "code_hash": true}

// ExportTaxpayer returns everything held about one taxpayer, table by
// table, for a GDPR access request: for the taxpayer themself and admins.
func (db *DB) ExportTaxpayer(ctx context.Context, taxpayerID int64) (map[string][]map[string]any, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.Has(fiscal.RoleAdmin) && (a.TaxpayerID == nil || *a.TaxpayerID != taxpayerID) {
		if a.IsStaff() {
			return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "only an admin or the taxpayer exports personal data")
		}
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	if _, err := db.Taxpayer(ctx, taxpayerID); err != nil {
		return nil, err
	}
	out := map[string][]map[string]any{}
	for _, src := range personalData {
		rows, err := db.db.QueryxContext(ctx, db.db.Rebind(`SELECT * FROM `+src.table+` WHERE municipality_id = ? AND `+src.column+` = ? ORDER BY id`), a.MunicipalityID, taxpayerID)
		if err != nil {
			return nil, translate(err, src.table)
		}
		list := []map[string]any{}
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				rows.Close()
				return nil, translate(err, src.table)
			}
			for k, v := range m {
				if secretColumns[k] {
					delete(m, k)
				} else if b, ok := v.([]byte); ok {
					m[k] = string(b)
				}
			}
			list = append(list, m)
		}
		rows.Close()
		out[src.table] = list
	}
	return out, db.logAccess(ctx, a, taxpayerID, "export")
}

// PersonalDataTables lists the tables the export reads (for tests).
func PersonalDataTables() []string {
	var t []string
	for _, s := range personalData {
		t = append(t, s.table)
	}
	sort.Strings(t)
	return t
}
