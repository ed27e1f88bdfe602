// Package civil holds Date, a calendar date without time of day or time zone,
// used for due dates, payment dates and tax years. It crosses JSON and SQL as
// the text "YYYY-MM-DD".
package civil

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// Date is a proleptic Gregorian calendar date. The zero value is not a valid
// date; IsZero reports it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ErrInvalid is returned by Parse for text that is not a real date in the form YYYY-MM-DD.
var ErrInvalid = errors.New("not a date in the form YYYY-MM-DD")

// New returns the date; it does not normalise, so check with IsValid when the
// parts come from outside.
func New(year int, month time.Month, day int) Date { return Date{year, month, day} }

// Of returns the date of t in t's location.
func Of(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Parse reads a date strictly in the form YYYY-MM-DD (four-digit year 0001-9999,
// two-digit month and day) and refuses dates that do not exist, such as 2026-02-30.
func Parse(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%q: %w", s, ErrInvalid)
	}
	num := func(b string) int {
		n := 0
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, m, d := num(s[0:4]), num(s[5:7]), num(s[8:10])
	dt := Date{y, time.Month(m), d}
	if y < 1 || m < 0 || d < 0 || !dt.IsValid() {
		return Date{}, fmt.Errorf("%q: %w", s, ErrInvalid)
	}
	return dt, nil
}

// MustParse is Parse for literals in code and tests; it panics on an invalid date.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DaysIn returns the number of days of month m in year y.
func DaysIn(y int, m time.Month) int {
	switch m {
	case time.April, time.June, time.September, time.November:
		return 30
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// IsValid reports whether d names a real day between years 1 and 9999.
func (d Date) IsValid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= DaysIn(d.Year, d.Month)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return string(d.appendTo(make([]byte, 0, 10)))
}

func (d Date) appendTo(b []byte) []byte {
	y := d.Year
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(d.Month)/10%10), byte('0'+int(d.Month)%10), '-')
	return append(b, byte('0'+d.Day/10%10), byte('0'+d.Day%10))
}

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns d plus n days (n may be negative).
func (d Date) AddDays(n int) Date {
	if n > 0 && d.Day+n <= 28 || n < 0 && d.Day+n >= 1 {
		return Date{d.Year, d.Month, d.Day + n} // fast path inside the month
	}
	return Of(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// DaysSince returns the number of days from u to d (positive when d is after u).
func (d Date) DaysSince(u Date) int {
	return int(d.In(time.UTC).Sub(u.In(time.UTC)).Hours() / 24)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after u.
func (d Date) Compare(u Date) int {
	switch {
	case d.Year != u.Year:
		return cmp(d.Year, u.Year)
	case d.Month != u.Month:
		return cmp(int(d.Month), int(u.Month))
	default:
		return cmp(d.Day, u.Day)
	}
}

func cmp(a, b int) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// Before reports whether d is before u.
func (d Date) Before(u Date) bool { return d.Compare(u) < 0 }

// After reports whether d is after u.
func (d Date) After(u Date) bool { return d.Compare(u) > 0 }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// Sakamoto's method, valid for the Gregorian calendar.
	t := [...]int{0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4}
	y := d.Year
	if d.Month < time.March {
		y--
	}
	w := (y + y/4 - y/100 + y/400 + t[d.Month-1] + d.Day) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// MarshalText writes d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) {
	if !d.IsValid() {
		return nil, fmt.Errorf("civil: cannot marshal invalid date %v", d.String())
	}
	return d.appendTo(make([]byte, 0, 10)), nil
}

// UnmarshalText reads YYYY-MM-DD strictly.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes d as a JSON string "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	if !d.IsValid() {
		return nil, fmt.Errorf("civil: cannot marshal invalid date %v", d.String())
	}
	return d.AppendJSON(make([]byte, 0, 12)), nil
}

// AppendJSON appends d as MarshalJSON writes it (a JSON string
// "YYYY-MM-DD"); the caller checks IsValid first, as MarshalJSON refuses an
// invalid date.
func (d Date) AppendJSON(b []byte) []byte {
	b = append(b, '"')
	b = d.appendTo(b)
	return append(b, '"')
}

// UnmarshalJSON reads a JSON string "YYYY-MM-DD"; null leaves d unchanged.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("%s: %w", b, ErrInvalid)
	}
	return d.UnmarshalText(b[1 : len(b)-1])
}

// Value stores d as TEXT 'YYYY-MM-DD' (portable between SQLite and PostgreSQL).
func (d Date) Value() (driver.Value, error) {
	if !d.IsValid() {
		return nil, fmt.Errorf("civil: cannot store invalid date %v", d.String())
	}
	return d.String(), nil
}

// Scan reads a date column returned as string, []byte or time.Time (PostgreSQL
// DATE via pgx). A time.Time contributes its own calendar date, whatever its
// location. A text value may carry a time part after the date ("2026-03-31T00:00:00Z"
// or "2026-03-31 00:00:00"), which is ignored.
func (d *Date) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case time.Time:
		*d = Of(v)
		return nil
	default:
		return fmt.Errorf("civil: cannot scan %T into Date", src)
	}
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
