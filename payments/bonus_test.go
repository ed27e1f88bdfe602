package payments

import (
	"reflect"
	"testing"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

func TestBonusGroups(t *testing.T) {
	d := func(s string) civil.Date { v, _ := civil.Parse(s); return v }
	// Two instalments of the 2026 vehicle tax (one assessment, bonus 10 lei)
	// and one of the 2026 building tax (bonus 5 lei).
	debts := []AssessedDebt{
		{ID: 1, TaxType: "vehicle", Year: 2026, AssessmentID: 100, DueDate: d("2026-03-31"), Outstanding: 10000},
		{ID: 2, TaxType: "vehicle", Year: 2026, AssessmentID: 100, DueDate: d("2026-09-30"), Outstanding: 10000},
		{ID: 3, TaxType: "building", Year: 2026, AssessmentID: 200, DueDate: d("2026-03-31"), Outstanding: 600},
	}
	bonus := map[int64]money.Bani{100: 1000, 200: 500}
	for _, tc := range []struct {
		name    string
		on      string
		granted map[int64]bool
		bonus   map[int64]money.Bani
		debts   []AssessedDebt
		want    []BonusGroup
	}{
		{name: "by the first deadline, each group once, its bonus counted once per assessment", on: "2026-03-31",
			want: []BonusGroup{{Key: "vehicle/2026", Bonus: 1000, DebtIDs: []int64{1, 2}}, {Key: "building/2026", Bonus: 500, DebtIDs: []int64{3}}}},
		{name: "after the first deadline, none", on: "2026-04-01"},
		{name: "a group that had its bonus earns none again", on: "2026-03-01", granted: map[int64]bool{2: true},
			want: []BonusGroup{{Key: "building/2026", Bonus: 500, DebtIDs: []int64{3}}}},
		{name: "a bonus not below what is open is not offered", on: "2026-03-01",
			debts: []AssessedDebt{{ID: 3, TaxType: "building", Year: 2026, AssessmentID: 200, DueDate: d("2026-03-31"), Outstanding: 500}}},
		{name: "no bonus, no group", on: "2026-03-01", bonus: map[int64]money.Bani{}},
		{name: "the earliest due date of the group counts, whatever the order", on: "2026-04-15",
			debts: []AssessedDebt{
				{ID: 5, TaxType: "land", Year: 2026, AssessmentID: 300, DueDate: d("2026-09-30"), Outstanding: 900},
				{ID: 4, TaxType: "land", Year: 2026, AssessmentID: 300, DueDate: d("2026-03-31"), Outstanding: 900}},
			bonus: map[int64]money.Bani{300: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, b := debts, bonus
			if tc.debts != nil {
				ds = tc.debts
			}
			if tc.bonus != nil {
				b = tc.bonus
			}
			got := BonusGroups(ds, b, tc.granted, d(tc.on))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
