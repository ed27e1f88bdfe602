package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// The SLA monitor: the sweep over every open case (CheckSLA) and its claim
// on one case (claimSLA).

// claimSLA is the SLA monitor's claim on one case (CheckSLA), the first
// statement of the transaction that escalates it or records its breach: it
// reads the case again under a row lock and decides from that row, not from
// the sweep's earlier snapshot, so a case decided, paused or handled by
// another instance meanwhile is seen as it now is. On PostgreSQL the lock is
// FOR UPDATE SKIP LOCKED: a case another instance's sweep (or a decision)
// holds at this moment is left to it, or to the next run, instead of waited
// for; on SQLite the writer lock already serialises the sweeps. The UPDATEs
// after it set escalated_at and breached_at only where they are still NULL,
// so each happens once whatever the engine. It returns a nil row when the
// case is no longer open, is locked, or needs nothing.
func (tx *Tx) claimSLA(ctx context.Context, id int64, cal *calendar.Calendar, today civil.Date) (c *caseRow, s fiscal.SLA, escalate, breach bool, err error) {
	lock := ""
	if tx.db.dialect == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var row caseRow
	err = tx.Get(ctx, &row, `SELECT `+caseCols+` FROM cases WHERE id = ? AND status IN ('submitted', 'awaiting_taxpayer', 'reviewed')
		AND (escalated_at IS NULL OR breached_at IS NULL)`+lock, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s, false, false, nil
	}
	if err != nil {
		return nil, s, false, false, translate(err, "case")
	}
	s, _ = row.sla(cal, today)
	escalate, breach = fiscal.SLAActions(s, row.EscalatedAt != nil, row.BreachedAt != nil)
	if !escalate && !breach {
		return nil, s, false, false, nil
	}
	return &row, s, escalate, breach, nil
}

// CheckSLA is the SLA monitor: for every open case of every municipality it
// escalates a case that turned at risk (a notification to the signers, once)
// and records a breach (once). Running it again, or from several instances
// at once, changes nothing twice: each case is claimed in its transaction
// (claimSLA, sla.go) and the notification is queued in that transaction.
func (db *DB) CheckSLA(ctx context.Context, now time.Time) (*fiscal.SLAReport, error) {
	var rows []*caseRow
	if err := db.db.SelectContext(ctx, &rows, `SELECT `+caseCols+` FROM cases WHERE status IN ('submitted', 'awaiting_taxpayer', 'reviewed')
		AND (escalated_at IS NULL OR breached_at IS NULL) ORDER BY municipality_id, id`); err != nil {
		return nil, translate(err, "cases")
	}
	rep := &fiscal.SLAReport{}
	today := fiscal.LocalDate(now)
	for _, c := range rows {
		cal, err := db.calendar(ctx, c.MunicipalityID)
		if err != nil {
			return rep, err
		}
		rep.Checked++
		s, _ := c.sla(cal, today)
		escalate, breach := fiscal.SLAActions(s, c.EscalatedAt != nil, c.BreachedAt != nil)
		if !escalate && !breach {
			continue
		}
		actx := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "sla-monitor", MunicipalityID: c.MunicipalityID})
		err = db.InTx(actx, func(tx *Tx) error {
			// Decided again on the case as it is now, under its row lock.
			c, s, escalate, breach, err := tx.claimSLA(ctx, c.ID, cal, today)
			if err != nil || c == nil {
				return err
			}
			if escalate {
				res, err := tx.Exec(ctx, `UPDATE cases SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL`, tx.Now, c.ID)
				if err != nil {
					return translate(err, "case")
				}
				if n, _ := res.RowsAffected(); n == 1 {
					rep.Escalated++
					var signers []struct {
						ID    int64  `db:"id"`
						Email string `db:"email"`
					}
					if err := tx.Select(ctx, &signers, `SELECT id, email FROM users WHERE municipality_id = ? AND role = 'signer' AND disabled = ?`, c.MunicipalityID, false); err != nil {
						return translate(err, "signers")
					}
					for _, sg := range signers {
						id := sg.ID
						if err := tx.queueNotification(ctx, c, &id, sg.Email, "Termen în pericol: cererea "+c.Number,
							fmt.Sprintf("Cererea %s (%s, %s) trebuie soluționată până la %s; mai are %d zile lucrătoare.", c.Number, c.Type, c.Status, s.DueOn, s.WorkingDaysLeft)); err != nil {
							return err
						}
					}
					if err := tx.event(ctx, c, "escalated", fmt.Sprintf("%s: due %s", s.State, s.DueOn), false); err != nil {
						return err
					}
					if err := tx.Audit(ctx, c.MunicipalityID, "case.sla_escalated", "case", c.ID, nil, s); err != nil {
						return err
					}
				}
			}
			if breach {
				res, err := tx.Exec(ctx, `UPDATE cases SET breached_at = ? WHERE id = ? AND breached_at IS NULL`, tx.Now, c.ID)
				if err != nil {
					return translate(err, "case")
				}
				if n, _ := res.RowsAffected(); n == 1 {
					rep.Breached++
					if err := tx.event(ctx, c, "sla_breached", "due "+s.DueOn.String(), false); err != nil {
						return err
					}
					if err := tx.Audit(ctx, c.MunicipalityID, "case.sla_breached", "case", c.ID, nil, s); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}
