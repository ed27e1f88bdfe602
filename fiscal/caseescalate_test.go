package fiscal

import (
	"testing"

	"fiscald/calc/calendar"
	"fiscald/internal/civil"
)

func TestEscalationCutoff(t *testing.T) {
	cal := calendar.MustNew(nil)
	for _, c := range []struct {
		today string
		n     int
		want  string
	}{
		{"2026-05-13", 2, "2026-05-11"}, // Wednesday: opened Monday
		{"2026-05-11", 1, "2026-05-10"}, // Monday: opened Friday-Sunday count
		{"2026-05-11", 2, "2026-05-07"}, // Monday, 2 days: Thursday
	} {
		today, _ := civil.Parse(c.today)
		got := EscalationCutoff(cal, today, c.n)
		if got.String() != c.want {
			t.Errorf("%s %d: %s, want %s", c.today, c.n, got, c.want)
		}
		due, _ := cal.AddWorkingDays(got, c.n)
		after, _ := cal.AddWorkingDays(got.AddDays(1), c.n)
		if due.After(today) || !after.After(today) {
			t.Errorf("%s %d: cutoff %s not the largest day due by today", c.today, c.n, got)
		}
	}
}
