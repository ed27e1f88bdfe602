// Package calendar decides which days are working days in Romania (local-taxes.md §9;
// Codul muncii art. 139) and counts deadlines in working days. The legal holidays
// are embedded data (holidays.json); bridge days granted by government decision
// are passed in by the caller, so they can be stored and edited per municipality.
// The package does no I/O and reads no clock.
package calendar

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"fiscald/internal/civil"
)

// Reasons given for non-working days that are not legal holidays.
const (
	ReasonSaturday = "sâmbătă"
	ReasonSunday   = "duminică"
	ReasonBridge   = "zi liberă (punte)"
)

// Holiday is one legal holiday rule: either a fixed day (Month, Day) or a day
// at *EasterOffset days from Orthodox Easter Sunday.
type Holiday struct {
	Month        time.Month `json:"month,omitempty"`
	Day          int        `json:"day,omitempty"`
	EasterOffset *int       `json:"easter_offset,omitempty"` // nil for a fixed holiday
	Name         string     `json:"name"`
	FromYear     int        `json:"from_year,omitempty"`
}

// DayOff is an extra non-working day (a bridge day, "zi liberă (punte)") decided
// by the government for public offices.
type DayOff struct {
	Date   civil.Date `json:"date"`
	Reason string     `json:"reason,omitempty"` // defaults to ReasonBridge
}

// Skipped is a non-working day passed over while counting a deadline.
type Skipped struct {
	Date   civil.Date `json:"date"`
	Reason string     `json:"reason"`
}

// Calendar answers working-day questions. It is immutable after New and safe for
// concurrent use.
type Calendar struct {
	fixed   map[[2]int]Holiday // (month, day) -> rule
	movable []Holiday
	daysOff map[civil.Date]string
}

//go:embed holidays.json
var holidaysJSON []byte

// LegalHolidays returns the legal holidays of Codul muncii art. 139 from the embedded data.
func LegalHolidays() []Holiday {
	var doc struct {
		Holidays []Holiday `json:"holidays"`
	}
	if err := json.Unmarshal(holidaysJSON, &doc); err != nil {
		panic("calendar: embedded holidays.json: " + err.Error())
	}
	return doc.Holidays
}

// New returns the calendar of the legal holidays plus the given extra days off.
func New(daysOff []DayOff) (*Calendar, error) {
	return NewWithHolidays(LegalHolidays(), daysOff)
}

// MustNew is New for fixed data known to be valid; it panics on error.
func MustNew(daysOff []DayOff) *Calendar {
	c, err := New(daysOff)
	if err != nil {
		panic(err)
	}
	return c
}

// NewWithHolidays returns a calendar with the given holiday rules and extra days off.
func NewWithHolidays(holidays []Holiday, daysOff []DayOff) (*Calendar, error) {
	c := &Calendar{fixed: map[[2]int]Holiday{}, daysOff: make(map[civil.Date]string, len(daysOff))}
	var errs []error
	for i, h := range holidays {
		switch {
		case h.Name == "":
			errs = append(errs, fmt.Errorf("holiday %d: missing name", i))
		case h.EasterOffset != nil:
			if *h.EasterOffset < -60 || *h.EasterOffset > 60 {
				errs = append(errs, fmt.Errorf("holiday %q: easter_offset %d out of range", h.Name, *h.EasterOffset))
			}
			c.movable = append(c.movable, h)
		default:
			if !civil.New(2024, h.Month, h.Day).IsValid() {
				errs = append(errs, fmt.Errorf("holiday %q: invalid day %d-%d", h.Name, h.Month, h.Day))
			}
			c.fixed[[2]int{int(h.Month), h.Day}] = h
		}
	}
	for _, d := range daysOff {
		if !d.Date.IsValid() {
			errs = append(errs, fmt.Errorf("day off %v: invalid date", d.Date))
			continue
		}
		r := d.Reason
		if r == "" {
			r = ReasonBridge
		}
		c.daysOff[d.Date] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Easter returns the date of Orthodox Easter Sunday in year y (Gregorian
// calendar): Meeus's Julian computus plus 13 days, valid for 1900-2099.
func Easter(y int) civil.Date {
	a, b, c := y%4, y%7, y%19
	d := (19*c + 15) % 30
	e := (2*a + 4*b - d + 34) % 7
	month := (d + e + 114) / 31
	day := (d+e+114)%31 + 1
	return civil.New(y, time.Month(month), day).AddDays(13)
}

// Holiday returns the name of the legal holiday on d, or "" if d is none.
func (c *Calendar) Holiday(d civil.Date) string {
	if h, ok := c.fixed[[2]int{int(d.Month), d.Day}]; ok && d.Year >= h.FromYear {
		return h.Name
	}
	if len(c.movable) > 0 && d.Month >= time.February && d.Month <= time.July {
		off := d.DaysSince(Easter(d.Year))
		for _, h := range c.movable {
			if *h.EasterOffset == off && d.Year >= h.FromYear {
				return h.Name
			}
		}
	}
	return ""
}

// IsWorkingDay reports whether d is a working day; if not, reason says why:
// the holiday's name, the bridge day's reason, "sâmbătă" or "duminică" (in that
// order of precedence when several apply).
func (c *Calendar) IsWorkingDay(d civil.Date) (ok bool, reason string) {
	if name := c.Holiday(d); name != "" {
		return false, name
	}
	if r, off := c.daysOff[d]; off {
		return false, r
	}
	switch d.Weekday() {
	case time.Saturday:
		return false, ReasonSaturday
	case time.Sunday:
		return false, ReasonSunday
	}
	return true, ""
}

// NextWorkingDay returns d if it is a working day, else the first working day after d.
// Used to move a due date that falls on a non-working day (Codul fiscal art. 472 alin. (1);
// CPF art. 181 alin. (4)).
func (c *Calendar) NextWorkingDay(d civil.Date) civil.Date {
	for {
		if ok, _ := c.IsWorkingDay(d); ok {
			return d
		}
		d = d.AddDays(1)
	}
}

// AddWorkingDays returns the deadline n working days after from, counting from
// the day after from (local-taxes.md §9), and every non-working day passed over
// on the way, with its reason. For n <= 0 it returns from itself.
func (c *Calendar) AddWorkingDays(from civil.Date, n int) (due civil.Date, skipped []Skipped) {
	due = from
	for n > 0 {
		due = due.AddDays(1)
		if ok, reason := c.IsWorkingDay(due); ok {
			n--
		} else {
			skipped = append(skipped, Skipped{due, reason})
		}
	}
	return due, skipped
}

// WorkingDaysBetween counts the working days in the interval (from, to]: how many
// working days remain from the day after from until to inclusive. It returns
// a negative count when to is before from.
func (c *Calendar) WorkingDaysBetween(from, to civil.Date) int {
	sign := 1
	if to.Before(from) {
		from, to, sign = to, from, -1
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if ok, _ := c.IsWorkingDay(d); ok {
			n++
		}
	}
	return sign * n
}
