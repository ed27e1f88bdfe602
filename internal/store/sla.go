package store

import (
	"context"
	"database/sql"
	"errors"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

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
