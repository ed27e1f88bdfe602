package fiscal

import (
	"encoding/json"

	"fiscald/internal/money"
)

// DefaultAmountLimit is the plausibility bound on an amount staff enter
// when the municipality's settings name none: 1,000,000 lei.
const DefaultAmountLimit = money.Bani(1_000_000_00)

// AmountLimits are the plausibility bounds on the amounts people enter, per
// municipality: settings "amount_limits", e.g.
//
//	{"amount_limits": {"cash": "250000.00", "refund": "1000000.00", "credit_refund": "500000.00"}}
//
// A missing or unusable entry is DefaultAmountLimit; an entry is never
// above money.Max (what the ledger can sum). An amount above its bound is
// refused with 422 naming the field and the bound (CheckAmountLimit), before anything
// is written.
type AmountLimits struct {
	// Cash bounds a payment received at the cash desk.
	Cash money.Bani
	// Refund bounds one refund of a payment.
	Refund money.Bani
	// CreditRefund bounds one refund of a taxpayer's credit.
	CreditRefund money.Bani
}

// AmountLimitsFrom reads the bounds of a municipality's settings JSON.
func AmountLimitsFrom(settings string) AmountLimits {
	l := AmountLimits{Cash: DefaultAmountLimit, Refund: DefaultAmountLimit, CreditRefund: DefaultAmountLimit}
	var s struct {
		Limits map[string]json.RawMessage `json:"amount_limits"`
	}
	if settings == "" || json.Unmarshal([]byte(settings), &s) != nil {
		return l
	}
	for key, dst := range map[string]*money.Bani{"cash": &l.Cash, "refund": &l.Refund, "credit_refund": &l.CreditRefund} {
		var v money.Bani
		if raw, ok := s.Limits[key]; ok && json.Unmarshal(raw, &v) == nil && v > 0 {
			*dst = min(v, money.Max)
		}
	}
	return l
}

// CheckAmountLimit returns EINVALID naming field and the bound when amount
// is above limit; what says which bound it is ("cash payment", "refund").
func CheckAmountLimit(field string, amount, limit money.Bani, what string) error {
	if amount > limit {
		return InvalidField(field, "must be at most "+limit.String()+" lei (the municipality's limit for a "+what+")")
	}
	return nil
}
