package civil

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	good := map[string]Date{
		"2026-03-31": {2026, time.March, 31},
		"2024-02-29": {2024, time.February, 29},
		"2000-02-29": {2000, time.February, 29},
		"0001-01-01": {1, time.January, 1},
		"9999-12-31": {9999, time.December, 31},
	}
	for s, want := range good {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("String() = %q, want %q", got.String(), s)
		}
	}
	bad := []string{"", "2026-3-31", "2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01",
		"2026-00-10", "2026-01-00", "0000-01-01", "2026/03/31", "+026-03-31", "2026-03-31T00:00:00Z",
		"2026-0a-01", "２０２６-03-31", "2026-03-3 ", "-026-03-31"}
	for _, s := range bad {
		if d, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want error", s, d)
		}
	}
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-31", 1, "2026-04-01"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2025-02-28", 1, "2025-03-01"},
		{"2026-01-01", -1, "2025-12-31"},
		{"2026-03-10", 10, "2026-03-20"},
		{"2026-03-10", 365, "2027-03-10"},
		{"2026-03-10", 0, "2026-03-10"},
	}
	for _, tt := range tests {
		got := MustParse(tt.from).AddDays(tt.n)
		if got.String() != tt.want {
			t.Errorf("%s + %d = %s, want %s", tt.from, tt.n, got, tt.want)
		}
		if back := got.DaysSince(MustParse(tt.from)); back != tt.n {
			t.Errorf("DaysSince = %d, want %d", back, tt.n)
		}
	}
	a, b := MustParse("2026-03-31"), MustParse("2026-04-01")
	if !a.Before(b) || b.Before(a) || !b.After(a) || a.Compare(a) != 0 || a.Compare(b) != -1 || b.Compare(a) != 1 {
		t.Error("ordering broken")
	}
}

func TestWeekday(t *testing.T) {
	d := MustParse("1900-01-01")
	for i := 0; i < 80000; i++ {
		if got, want := d.Weekday(), d.In(time.UTC).Weekday(); got != want {
			t.Fatalf("%s: Weekday = %v, want %v", d, got, want)
		}
		d = d.AddDays(1)
	}
}

func TestJSON(t *testing.T) {
	var v struct {
		D Date  `json:"d"`
		P *Date `json:"p"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-09-30","p":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.D != (Date{2026, time.September, 30}) || v.P != nil {
		t.Fatalf("got %+v", v)
	}
	out, err := json.Marshal(v)
	if err != nil || string(out) != `{"d":"2026-09-30","p":null}` {
		t.Fatalf("Marshal = %s, %v", out, err)
	}
	for _, in := range []string{`{"d":20260930}`, `{"d":"2026-09-31"}`, `{"d":"30.09.2026"}`} {
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", in)
		}
	}
	if _, err := json.Marshal(Date{}); err == nil {
		t.Error("marshalling the zero date should fail")
	}
}

func TestSQL(t *testing.T) {
	want := Date{2026, time.March, 31}
	v, err := want.Value()
	if err != nil || v != "2026-03-31" {
		t.Fatalf("Value = %v, %v", v, err)
	}
	loc := time.FixedZone("EET", 2*3600)
	for _, src := range []any{"2026-03-31", []byte("2026-03-31"), "2026-03-31T00:00:00Z",
		"2026-03-31 00:00:00+00:00", time.Date(2026, 3, 31, 23, 30, 0, 0, loc)} {
		var d Date
		if err := d.Scan(src); err != nil || d != want {
			t.Errorf("Scan(%v) = %v, %v", src, d, err)
		}
	}
	var d Date
	for _, src := range []any{nil, int64(20260331), "2026-02-30"} {
		if err := d.Scan(src); err == nil {
			t.Errorf("Scan(%v) succeeded", src)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026-03-31", "2024-02-29", "2026-02-29", "0000-00-00", "9999-12-31", "abcd-ef-gh", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		ref, refErr := time.Parse(time.DateOnly, s)
		if err != nil {
			if refErr == nil && ref.Year() >= 1 && len(s) == 10 {
				t.Fatalf("Parse(%q) refused a date time.Parse accepts: %v", s, err)
			}
			return
		}
		if !d.IsValid() || d.String() != s {
			t.Fatalf("Parse(%q) = %v, round trip %q", s, d, d.String())
		}
		if refErr != nil || Of(ref) != d {
			t.Fatalf("Parse(%q) = %v, time.Parse = %v, %v", s, d, ref, refErr)
		}
	})
}
