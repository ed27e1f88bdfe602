package payments

import (
	"reflect"
	"testing"
	"time"

	"fiscald/internal/money"
)

func TestSettleBonus(t *testing.T) {
	L := money.Lei
	year := []Debt{
		{ID: 1, Kind: KindPrincipal, DueDate: "2026-03-31", Outstanding: L(99)},
		{ID: 2, Kind: KindPrincipal, DueDate: "2026-09-30", Outstanding: L(99)},
	}
	g := []BonusGroup{{Key: "vehicle/2026", Bonus: L(20), DebtIDs: []int64{1, 2}}}
	tests := []struct {
		name   string
		amount money.Bani
		chosen []int64
		groups []BonusGroup
		want   Settlement
	}{
		{"whole year minus bonus", L(178), nil, g, Settlement{
			Allocations: []Allocation{{1, L(99)}, {2, L(79)}}, Bonus: []Allocation{{2, L(20)}}, Groups: []string{"vehicle/2026"}}},
		{"more than needed: bonus and credit", L(200), nil, g, Settlement{
			Allocations: []Allocation{{1, L(99)}, {2, L(79)}}, Bonus: []Allocation{{2, L(20)}}, Groups: []string{"vehicle/2026"}, Credit: L(22)}},
		{"short of the year: no bonus", L(177), nil, g, Settlement{
			Allocations: []Allocation{{1, L(99)}, {2, L(78)}}}},
		{"first instalment only: no bonus", L(99), []int64{1}, g, Settlement{
			Allocations: []Allocation{{1, L(99)}}}},
		{"no group offered", L(178), nil, nil, Settlement{
			Allocations: []Allocation{{1, L(99)}, {2, L(79)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Settle(tt.amount, year, tt.chosen, tt.groups)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReverse(t *testing.T) {
	L := money.Lei
	paid := []Debt{
		{ID: 1, Kind: KindPrincipal, DueDate: "2026-03-31", Outstanding: L(99)},
		{ID: 2, Kind: KindPrincipal, DueDate: "2026-09-30", Outstanding: L(50)},
		{ID: 3, Kind: KindLateFee, DueDate: "2026-05-08", Outstanding: L(2)},
		{ID: 4, Kind: KindFine, DueDate: "2026-01-15", Outstanding: L(100)},
	}
	tests := []struct {
		name       string
		amount     money.Bani
		credit     money.Bani
		want       []Allocation
		fromCredit money.Bani
	}{
		{"credit first", L(5), L(10), nil, L(5)},
		{"then late fees, newest principal, oldest principal, fines", L(160), L(10),
			[]Allocation{{3, L(2)}, {2, L(50)}, {1, L(98)}}, L(10)},
		{"everything", L(261), L(10), []Allocation{{3, L(2)}, {2, L(50)}, {1, L(99)}, {4, L(100)}}, L(10)},
		{"more than paid: only what there is", L(300), 0, []Allocation{{3, L(2)}, {2, L(50)}, {1, L(99)}, {4, L(100)}}, 0},
		{"nothing", 0, L(10), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			back, fc := Reverse(tt.amount, tt.credit, paid)
			if !reflect.DeepEqual(back, tt.want) || fc != tt.fromCredit {
				t.Fatalf("got %+v, %s; want %+v, %s", back, fc, tt.want, tt.fromCredit)
			}
		})
	}
}

func TestLocalDate(t *testing.T) {
	// 22:30 UTC on 31 March is 01:30 on 1 April in Romania (EEST).
	if d := LocalDate(time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC)); d.String() != "2026-04-01" {
		t.Fatal(d)
	}
	if d := LocalDate(time.Date(2026, 3, 31, 20, 59, 0, 0, time.UTC)); d.String() != "2026-03-31" {
		t.Fatal(d)
	}
}
