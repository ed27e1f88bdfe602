package payments

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"fiscald/internal/money"
)

func TestAllocate(t *testing.T) {
	L := money.Lei
	// A taxpayer's open debts, deliberately out of order.
	debts := []Debt{
		{ID: 10, Kind: KindLateFee, DueDate: "2026-04-01", Outstanding: L(12)},
		{ID: 4, Kind: KindPrincipal, DueDate: "2026-09-30", Outstanding: L(288)},
		{ID: 3, Kind: KindPrincipal, DueDate: "2026-03-31", Outstanding: L(288)},
		{ID: 7, Kind: KindFine, DueDate: "2026-02-15", Outstanding: L(100)},
		{ID: 11, Kind: KindLateFee, DueDate: "2025-10-01", Outstanding: L(5)},
		{ID: 6, Kind: KindFine, DueDate: "2025-12-01", Outstanding: L(50)},
		{ID: 1, Kind: KindPrincipal, DueDate: "2025-09-30", Outstanding: L(99)},
	}
	total := L(12 + 288 + 288 + 100 + 5 + 50 + 99)

	tests := []struct {
		name   string
		amount money.Bani
		debts  []Debt
		chosen []int64
		want   []Allocation
		credit money.Bani
	}{
		{
			name: "zero pays nothing", amount: 0, debts: debts,
		},
		{
			name: "negative pays nothing", amount: -500, debts: debts,
		},
		{
			name: "no debts: all credit", amount: L(10), credit: L(10),
		},
		{
			name: "partial: oldest fine first, in part", amount: L(30), debts: debts,
			want: []Allocation{{6, L(30)}},
		},
		{
			name: "partial: fines then oldest principal", amount: L(200), debts: debts,
			want: []Allocation{{6, L(50)}, {7, L(100)}, {1, L(50)}},
		},
		{
			name: "principal before any late fee", amount: L(50 + 100 + 99 + 288 + 288 + 1), debts: debts,
			want: []Allocation{{6, L(50)}, {7, L(100)}, {1, L(99)}, {3, L(288)}, {4, L(288)}, {11, L(1)}},
		},
		{
			name: "exact: everything paid, no credit", amount: total, debts: debts,
			want: []Allocation{{6, L(50)}, {7, L(100)}, {1, L(99)}, {3, L(288)}, {4, L(288)}, {11, L(5)}, {10, L(12)}},
		},
		{
			name: "overpayment: remainder is credit", amount: total + 1234, debts: debts,
			want:   []Allocation{{6, L(50)}, {7, L(100)}, {1, L(99)}, {3, L(288)}, {4, L(288)}, {11, L(5)}, {10, L(12)}},
			credit: 1234,
		},
		{
			name: "chosen debts only, legal order among them", amount: L(300), debts: debts,
			chosen: []int64{10, 4, 999},
			want:   []Allocation{{4, L(288)}, {10, L(12)}},
		},
		{
			name: "chosen debts partly paid", amount: L(100), debts: debts,
			chosen: []int64{4, 10},
			want:   []Allocation{{4, L(100)}},
		},
		{
			name: "chosen debts overpaid: credit", amount: L(400), debts: debts,
			chosen: []int64{3},
			want:   []Allocation{{3, L(288)}},
			credit: L(112),
		},
		{
			name: "ties on kind and date go by id", amount: L(15),
			debts: []Debt{
				{ID: 9, Kind: KindPrincipal, DueDate: "2026-03-31", Outstanding: L(10)},
				{ID: 2, Kind: KindPrincipal, DueDate: "2026-03-31", Outstanding: L(10)},
				{ID: 5, Kind: KindPrincipal, DueDate: "2026-03-31", Outstanding: L(10)},
			},
			want: []Allocation{{2, L(10)}, {5, L(5)}},
		},
		{
			name: "settled and unknown-kind debts get nothing", amount: L(20),
			debts: []Debt{
				{ID: 1, Kind: KindPrincipal, DueDate: "2025-03-31", Outstanding: 0},
				{ID: 2, Kind: "penalty", DueDate: "2025-01-01", Outstanding: L(10)},
				{ID: 3, Kind: KindPrincipal, DueDate: "2026-03-31", Outstanding: L(10)},
			},
			want:   []Allocation{{3, L(10)}},
			credit: L(10),
		},
		{
			name: "bani precision", amount: 1,
			debts: []Debt{{ID: 1, Kind: KindLateFee, DueDate: "2026-01-01", Outstanding: 3}},
			want:  []Allocation{{1, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.debts)
			got, credit := Allocate(tt.amount, tt.debts, tt.chosen)
			if !slices.Equal(got, tt.want) {
				t.Errorf("allocations = %v, want %v", got, tt.want)
			}
			if credit != tt.credit {
				t.Errorf("credit = %v, want %v", credit, tt.credit)
			}
			if !slices.Equal(before, tt.debts) {
				t.Errorf("Allocate modified its input")
			}
		})
	}
}

// checkAllocation verifies the invariants of Allocate for any input.
func checkAllocation(t *testing.T, amount money.Bani, debts []Debt, chosen []int64) {
	t.Helper()
	allocs, credit := Allocate(amount, debts, chosen)
	if amount <= 0 {
		if len(allocs) != 0 || credit != 0 {
			t.Fatalf("amount %d: got %v, credit %d", amount, allocs, credit)
		}
		return
	}
	byID := map[int64]Debt{}
	for _, d := range debts {
		byID[d.ID] = d
	}
	picked := func(id int64) bool { return len(chosen) == 0 || slices.Contains(chosen, id) }
	eligible := func(d Debt) bool { return d.Outstanding > 0 && d.Kind.Valid() && picked(d.ID) }

	var sum money.Bani
	seen := map[int64]bool{}
	for i, a := range allocs {
		d, ok := byID[a.DebtID]
		if !ok || !eligible(d) {
			t.Fatalf("allocation %v to ineligible debt %+v", a, d)
		}
		if seen[a.DebtID] {
			t.Fatalf("debt %d allocated twice: %v", a.DebtID, allocs)
		}
		seen[a.DebtID] = true
		if a.Amount <= 0 || a.Amount > d.Outstanding {
			t.Fatalf("allocation %v outside (0, %d]", a, d.Outstanding)
		}
		if i > 0 && debtCmp(byID[allocs[i-1].DebtID], d) > 0 {
			t.Fatalf("order violated: %+v before %+v", byID[allocs[i-1].DebtID], d)
		}
		// Every debt but the last allocated one is paid in full.
		if i < len(allocs)-1 && a.Amount != d.Outstanding {
			t.Fatalf("debt %d paid in part (%d of %d) before later debts", d.ID, a.Amount, d.Outstanding)
		}
		sum += a.Amount
	}
	if sum+credit != amount {
		t.Fatalf("sum %d + credit %d != amount %d", sum, credit, amount)
	}
	if credit < 0 {
		t.Fatalf("negative credit %d", credit)
	}
	// No eligible debt that precedes an allocated one, or any at all when there
	// is credit, may be left without full payment.
	for _, d := range debts {
		if !eligible(d) || seen[d.ID] {
			continue
		}
		if credit > 0 {
			t.Fatalf("credit %d left while debt %+v unpaid", credit, d)
		}
		if len(allocs) > 0 && debtCmp(d, byID[allocs[len(allocs)-1].DebtID]) < 0 {
			t.Fatalf("debt %+v skipped before later debt %d", d, allocs[len(allocs)-1].DebtID)
		}
	}
}

var kinds = []DebtKind{KindFine, KindPrincipal, KindLateFee}

func randomDebts(r *rand.Rand, n int) []Debt {
	debts := make([]Debt, n)
	for i := range debts {
		debts[i] = Debt{
			ID:          int64(i), // unique, like the rows they stand for
			Kind:        kinds[r.IntN(len(kinds))],
			DueDate:     fmt.Sprintf("2025-%02d-%02d", 1+r.IntN(3), 1+r.IntN(3)), // many ties
			Outstanding: money.Bani(r.Int64N(50_000) - 500),                      // some zero or negative
		}
	}
	return debts
}

func TestAllocateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		debts := randomDebts(r, r.IntN(12))
		var chosen []int64
		if r.IntN(3) == 0 {
			for range r.IntN(5) {
				chosen = append(chosen, int64(r.IntN(14)))
			}
		}
		amount := money.Bani(r.Int64N(300_000) - 1000)
		checkAllocation(t, amount, debts, chosen)
	}
}

func FuzzAllocate(f *testing.F) {
	f.Add(int64(20000), uint64(1), uint8(5), uint8(0))
	f.Add(int64(0), uint64(2), uint8(3), uint8(2))
	f.Add(int64(-5), uint64(3), uint8(0), uint8(1))
	f.Add(int64(1<<40), uint64(4), uint8(12), uint8(3))
	f.Fuzz(func(t *testing.T, amount int64, seed uint64, n, nChosen uint8) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		debts := randomDebts(r, int(n%32))
		var chosen []int64
		for range nChosen % 8 {
			chosen = append(chosen, int64(r.IntN(34)))
		}
		checkAllocation(t, money.Bani(amount), debts, chosen)
	})
}

func BenchmarkAllocate(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	debts := randomDebts(r, 200) // a large taxpayer: many objects, years of arrears
	for b.Loop() {
		Allocate(5_000_000, debts, nil)
	}
}
