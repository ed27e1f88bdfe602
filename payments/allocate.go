package payments

import (
	"cmp"
	"slices"

	"fiscald/internal/money"
)

// DebtKind says which rank a debt has in the legal allocation order.
type DebtKind string

// The kinds of debt a payment is allocated to, in the order of CPF art. 165.
const (
	// KindFine is an enforceable fine (amendă executorie); fines are paid first.
	KindFine DebtKind = "fine"
	// KindPrincipal is a principal tax obligation (an instalment of a local tax).
	KindPrincipal DebtKind = "principal"
	// KindLateFee is an accessory obligation (majorări de întârziere); paid last.
	KindLateFee DebtKind = "late_fee"
)

// rank is the position of a kind in the allocation order; unknown kinds get -1.
func (k DebtKind) rank() int {
	switch k {
	case KindFine:
		return 0
	case KindPrincipal:
		return 1
	case KindLateFee:
		return 2
	}
	return -1
}

// Valid reports whether k is one of the known kinds.
func (k DebtKind) Valid() bool { return k.rank() >= 0 }

// Debt is one open obligation of a taxpayer as the allocation sees it.
//
// DueDate is a civil date written "YYYY-MM-DD"; that form compares correctly as
// a plain string, which is all the allocation needs. (It is a string rather than
// a civil.Date only so that this package does not wait for that type; switch
// when it lands.)
type Debt struct {
	ID          int64
	Kind        DebtKind
	DueDate     string
	Outstanding money.Bani
}

// Allocation is the part of a payment applied to one debt.
type Allocation struct {
	DebtID int64
	Amount money.Bani
}

// debtCmp orders debts for allocation: by kind (fines, principal, late fees),
// then oldest due date first, then by id so that ties are deterministic.
func debtCmp(a, b Debt) int {
	if c := cmp.Compare(a.Kind.rank(), b.Kind.rank()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.DueDate, b.DueDate); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Allocate applies amount to debts in the order of CPF art. 165 (domain notes
// §5): first enforceable fines, oldest due date first; then every principal
// debt, oldest due date first; then every accessory (late fee), oldest first.
// Debts with the same kind and due date are taken in ascending id order.
//
// When chosen is not empty the taxpayer picked the debts to pay: only debts
// whose id is in chosen receive money, still in the order above among them
// (ids in chosen that match no debt are ignored). An empty or nil chosen means
// all debts.
//
// What is left after every eligible debt is paid in full is returned as credit,
// so sum(allocations) + credit == amount. Each allocation is positive and at
// most the debt's Outstanding; at most one debt (the last) is paid in part.
//
// Allocate is total and pure: it does not modify debts. An amount of zero or
// less allocates nothing and leaves no credit. Debts with nothing outstanding
// and debts of an unknown kind receive nothing (so money is never applied
// against the legal order); callers should reject unknown kinds before.
func Allocate(amount money.Bani, debts []Debt, chosen []int64) (allocs []Allocation, credit money.Bani) {
	if amount <= 0 {
		return nil, 0
	}
	var pick map[int64]bool
	if len(chosen) > 0 {
		pick = make(map[int64]bool, len(chosen))
		for _, id := range chosen {
			pick[id] = true
		}
	}
	eligible := make([]Debt, 0, len(debts))
	for _, d := range debts {
		if d.Outstanding <= 0 || !d.Kind.Valid() {
			continue
		}
		if pick != nil && !pick[d.ID] {
			continue
		}
		eligible = append(eligible, d)
	}
	slices.SortFunc(eligible, debtCmp)

	left := amount
	for _, d := range eligible {
		if left == 0 {
			break
		}
		a := min(left, d.Outstanding)
		allocs = append(allocs, Allocation{DebtID: d.ID, Amount: a})
		left -= a
	}
	return allocs, left
}
