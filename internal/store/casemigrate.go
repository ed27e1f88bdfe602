package store

import (
	"context"
	"fmt"

	"fiscald/fiscal"
)

// Moving a type's open cases from one version of its definition to another
// (MigrateCases, admin): an explicit map of steps, each moved case recorded
// as a signed step of action migrate (actionMigrate), from which its route
// is replayed on the new version; one audit entry per case.

// actionMigrate is the signed step that moved a case to another version.
const actionMigrate = "migrate"

// MigrateCases moves the open cases of a type from one version to another
// with an explicit map of steps: each open case's open step (a branch maps
// by its group) must be in the map and name a step of the new version.
// The moved case starts the mapped step afresh on the new version (the acts
// already signed stay in its chain; the route reads only the acts taken
// after the move, which is recorded as a signed step). One transaction,
// one audit entry per case.
func (db *DB) MigrateCases(ctx context.Context, typ string, in *fiscal.CaseMigration) (*fiscal.MigrationResult, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	if in.FromVersion == in.ToVersion {
		return nil, fiscal.InvalidField("to_version", "is the version the cases run on")
	}
	out := &fiscal.MigrationResult{Type: typ, FromVersion: in.FromVersion, ToVersion: in.ToVersion}
	err = db.InTx(ctx, func(tx *Tx) error {
		out.Moved = []int64{}
		from, err := tx.definition(ctx, a.MunicipalityID, typ, in.FromVersion)
		if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
			return fiscal.InvalidField("from_version", "is not a published version of "+typ)
		} else if err != nil {
			return err
		}
		to, err := tx.definition(ctx, a.MunicipalityID, typ, in.ToVersion)
		if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
			return fiscal.InvalidField("to_version", "is not a published version of "+typ)
		} else if err != nil {
			return err
		}
		if err := fiscal.CheckStepMap(from.def, to.def, in.StepMap); err != nil {
			return err
		}
		var ids []int64
		if err := tx.Select(ctx, &ids, `SELECT id FROM cases WHERE municipality_id = ? AND type = ? AND definition_version = ? AND status IN ('submitted', 'awaiting_taxpayer', 'reviewed') ORDER BY id`,
			a.MunicipalityID, typ, in.FromVersion); err != nil {
			return translate(err, "cases")
		}
		for _, id := range ids {
			c, err := tx.loadCase(ctx, id)
			if err != nil {
				return err
			}
			h, err := tx.routeHistory(ctx, c.ID)
			if err != nil {
				return err
			}
			r, err := h.replay(from.def)
			if err != nil {
				return err
			}
			at := from.def.CurrentStep(r)
			if at == "" {
				continue // decided meanwhile
			}
			target := in.StepMap[at]
			// The case's status is the mapped step's on the new version
			// (a case waiting for the taxpayer keeps waiting).
			status := fiscal.CaseStatus(c.Status)
			if status != fiscal.StatusAwaitingTaxpayer {
				moved, err := to.def.ReplayFrom(target, append(append([]fiscal.RouteAct(nil), h.prior...), h.acts...), nil)
				if err != nil {
					return err
				}
				status = to.def.StatusAt(moved)
			}
			before := map[string]any{"definition_version": in.FromVersion, "step": at, "version": c.Version, "status": c.Status}
			res, err := tx.Exec(ctx, `UPDATE cases SET definition_version = ?, status = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
				in.ToVersion, string(status), tx.Now, c.ID, c.Version)
			if err != nil {
				return translate(err, "case")
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fiscal.Errorf(fiscal.ECONFLICT, "the case %s was changed by someone else at the same time; try again", c.Number)
			}
			c.Version++
			if err := tx.routeMoved(ctx, c, target, fiscal.LocalDate(tx.Now)); err != nil {
				return err
			}
			atts, err := tx.attachments(ctx, c.ID)
			if err != nil {
				return err
			}
			comment := fmt.Sprintf("version %d → %d: %s → %s", in.FromVersion, in.ToVersion, at, target)
			if err := tx.step(ctx, c, atts, &fiscal.CaseStep{Action: actionMigrate, Step: target, To: status, Comment: comment}); err != nil {
				return err
			}
			c.Status = string(status)
			if err := tx.event(ctx, c, "migrated", comment, false); err != nil {
				return err
			}
			if err := tx.Audit(ctx, c.MunicipalityID, "case.migrate", "case", c.ID, before,
				map[string]any{"definition_version": in.ToVersion, "step": target, "version": c.Version, "status": c.Status}); err != nil {
				return err
			}
			out.Moved = append(out.Moved, c.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
