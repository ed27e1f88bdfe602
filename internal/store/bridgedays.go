package store

import (
	"context"
	"strings"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// The municipality's extra days off (calendar_days, admin): listed
// (BridgeDays), added (AddBridgeDay: not a weekend day or legal holiday
// already) and removed (DeleteBridgeDay). Each change moves the due dates of
// the municipality's open cases in the same transaction (calendarChanged)
// and drops the cached tax engine, whose calendar holds the days. The
// working-day calendar that cases count their deadlines on is read here
// too: the cached tax engine's (calendar), or the days as tx sees them
// (calendarInTx).

// BridgeDays lists the extra days off of the actor's municipality (admin only).
func (db *DB) BridgeDays(ctx context.Context, year int) ([]fiscal.BridgeDay, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	q, args := `SELECT day AS date, reason FROM calendar_days WHERE municipality_id = ?`, []any{a.MunicipalityID}
	if year > 0 {
		q += ` AND day >= ? AND day <= ?`
		args = append(args, civil.New(year, time.January, 1), civil.New(year, time.December, 31))
	}
	out := []fiscal.BridgeDay{}
	if err := db.db.SelectContext(ctx, &out, db.db.Rebind(q+` ORDER BY day`), args...); err != nil {
		return nil, translate(err, "calendar")
	}
	return out, nil
}

// legalCalendar is the calendar of the legal holidays alone.
var legalCalendar = calendar.MustNew(nil)

// AddBridgeDay adds an extra day off to the actor's municipality (admin
// only): a day that is already a weekend day or a legal holiday is EINVALID,
// one already entered ECONFLICT.
func (db *DB) AddBridgeDay(ctx context.Context, in *fiscal.BridgeDay) (int64, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return 0, err
	}
	if !in.Date.IsValid() {
		return 0, fiscal.InvalidField("date", "must be a date YYYY-MM-DD")
	}
	if ok, why := legalCalendar.IsWorkingDay(in.Date); !ok {
		return 0, fiscal.InvalidField("date", "is already a non-working day ("+why+")")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		in.Reason = calendar.ReasonBridge
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		id, err := tx.Insert(ctx, `INSERT INTO calendar_days (municipality_id, day, reason, created_at) VALUES (?, ?, ?, ?)`,
			a.MunicipalityID, in.Date, in.Reason, tx.Now)
		if err != nil {
			err = translate(err, "the day off "+in.Date.String())
			if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
				err.(*fiscal.Error).Fields = []fiscal.FieldError{{Field: "date", Message: "is already a day off"}}
			}
			return err
		}
		if err := tx.Audit(ctx, a.MunicipalityID, "calendar_day.create", "calendar_day", id, nil, in); err != nil {
			return err
		}
		return calendarChanged(ctx, tx, a.MunicipalityID)
	})
	if err != nil {
		return 0, err
	}
	db.InvalidateTaxEngine(a.MunicipalityID)
	return a.MunicipalityID, nil
}

// DeleteBridgeDay removes an extra day off of the actor's municipality (admin only).
func (db *DB) DeleteBridgeDay(ctx context.Context, day civil.Date) (int64, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return 0, err
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		var before struct {
			ID     int64      `db:"id"`
			Date   civil.Date `db:"day" json:"date"`
			Reason string     `db:"reason" json:"reason"`
		}
		if err := tx.Get(ctx, &before, `SELECT id, day, reason FROM calendar_days WHERE municipality_id = ? AND day = ?`, a.MunicipalityID, day); err != nil {
			return translate(err, "the day off "+day.String())
		}
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_days WHERE id = ?`, before.ID); err != nil {
			return translate(err, "calendar")
		}
		if err := tx.Audit(ctx, a.MunicipalityID, "calendar_day.delete", "calendar_day", before.ID, before, nil); err != nil {
			return err
		}
		return calendarChanged(ctx, tx, a.MunicipalityID)
	})
	if err != nil {
		return 0, err
	}
	db.InvalidateTaxEngine(a.MunicipalityID)
	return a.MunicipalityID, nil
}

// calendarChanged runs inside the transaction that added or removed a day off
// of the municipality. It is the hook for cases: the due dates of the
// municipality's open cases are recomputed here, in the same transaction, so
// a calendar change and the deadlines it moves commit together (local-taxes.md
// §9).
func calendarChanged(ctx context.Context, tx *Tx, municipalityID int64) error {
	_, err := tx.RecomputeOpenCaseDeadlines(ctx, municipalityID)
	return err
}

// calendar returns the working-day calendar of a municipality.
func (db *DB) calendar(ctx context.Context, municipalityID int64) (*calendar.Calendar, error) {
	e, err := db.TaxEngine(ctx, municipalityID)
	if err != nil {
		return nil, err
	}
	return e.Calendar, nil
}

// calendarInTx reads the calendar through tx, so days off added in the same
// transaction count.
func (tx *Tx) calendarInTx(ctx context.Context, municipalityID int64) (*calendar.Calendar, error) {
	var days []calendar.DayOff
	if err := tx.Select(ctx, &days, `SELECT day AS date, reason FROM calendar_days WHERE municipality_id = ? ORDER BY day`, municipalityID); err != nil {
		return nil, translate(err, "calendar")
	}
	cal, err := calendar.New(days)
	if err != nil {
		return nil, translate(err, "calendar")
	}
	return cal, nil
}
