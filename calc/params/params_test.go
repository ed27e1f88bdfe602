package params

import (
	"strings"
	"testing"

	"fiscald/internal/civil"
)

func TestDefaultsValid(t *testing.T) {
	s, err := NewSet(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasMunicipality("timisoara") || s.HasMunicipality("cluj") {
		t.Fatal("municipalities wrong")
	}
	if len(s.Entries()) != len(Defaults()) {
		t.Fatal("entries lost")
	}
}

func TestLookup(t *testing.T) {
	d := civil.MustParse
	s, err := NewSet([]Entry{
		{Key: "vehicle.surcharge_pct", EffectiveFrom: d("2016-01-01"), Value: "0", LegalBasis: "art. 489"},
		{Key: "vehicle.surcharge_pct", Municipality: "timisoara", EffectiveFrom: d("2026-01-01"), Value: "50", LegalBasis: "HCL"},
		{Key: "vehicle.surcharge_pct", Municipality: "timisoara", EffectiveFrom: d("2024-01-01"), Value: "25", LegalBasis: "HCL"},
		{Key: "budget_code.vehicle.individual", EffectiveFrom: d("2016-01-01"), Value: "16.02.02.01", LegalBasis: "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		muni, on, want string
		ok             bool
	}{
		{"timisoara", "2026-06-01", "50", true},
		{"timisoara", "2026-01-01", "50", true},
		{"timisoara", "2025-12-31", "25", true},
		{"timisoara", "2023-12-31", "0", true}, // falls back to national
		{"arad", "2026-06-01", "0", true},
		{"", "2015-12-31", "", false},
	}
	for _, tt := range tests {
		e, ok := s.Lookup("vehicle.surcharge_pct", tt.muni, d(tt.on))
		if ok != tt.ok || e.Value != tt.want {
			t.Errorf("Lookup(%s, %s) = %q %v", tt.muni, tt.on, e.Value, ok)
		}
	}
	if v, _, ok := s.Decimal("vehicle.surcharge_pct", "timisoara", d("2026-02-01")); !ok || v.String() != "50" {
		t.Errorf("Decimal = %v %v", v, ok)
	}
	if _, _, ok := s.Decimal("budget_code.vehicle.individual", "", d("2026-02-01")); ok {
		t.Error("Decimal of a text key")
	}
	if got := s.Keys("vehicle."); len(got) != 1 || got[0] != "vehicle.surcharge_pct" {
		t.Errorf("Keys = %v", got)
	}
}

func TestNewSetRejects(t *testing.T) {
	d := civil.MustParse("2026-01-01")
	bad := []Entry{
		{Key: "", EffectiveFrom: d, Value: "1", LegalBasis: "x"},
		{Key: "a..b", EffectiveFrom: d, Value: "1", LegalBasis: "x"},
		{Key: "a.b", Municipality: "Timișoara", EffectiveFrom: d, Value: "1", LegalBasis: "x"},
		{Key: "a.b", Value: "1", LegalBasis: "x"},
		{Key: "a.b", EffectiveFrom: d, Value: "1,5", LegalBasis: "x"},
		{Key: "a.b", EffectiveFrom: d, Value: "1e9", LegalBasis: "x"},
		{Key: "a.b", EffectiveFrom: d, Value: "1", LegalBasis: " "},
	}
	for _, e := range bad {
		if _, err := NewSet([]Entry{e}); err == nil {
			t.Errorf("NewSet accepted %+v", e)
		}
	}
	dup := Entry{Key: "a.b", EffectiveFrom: d, Value: "1", LegalBasis: "x"}
	if _, err := NewSet([]Entry{dup, dup}); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate: %v", err)
	}
}

func BenchmarkLookup(b *testing.B) {
	s := Default()
	on := civil.MustParse("2026-01-01")
	for b.Loop() {
		s.Decimal("vehicle.engine.row1.euro6", "timisoara", on)
	}
}
