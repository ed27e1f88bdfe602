package reports

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Code is a budget classification code with its treasury account and the
// revenue it collects.
type Code struct {
	Code    string `json:"code"`
	Account string `json:"account"`
	Revenue string `json:"revenue"`
}

// CodeTable maps budget codes to their accounts and names (local-taxes.md
// §7) and says where late-payment surcharges are reported.
type CodeTable struct {
	Codes map[string]Code `json:"codes"`
	// LateFeeCode, when set, is the code late-payment surcharges are
	// reported under; empty keeps each surcharge under its principal's code
	// (the law leaves the accessories' code open).
	LateFeeCode string `json:"late_fee_code"`
}

// CreditCode is the pseudo-code of money received and kept as taxpayers'
// credit (overpayments), which no debt's code covers yet.
const CreditCode = "CREDIT"

// DefaultCodes is the code table of the domain reference (§7).
func DefaultCodes() CodeTable {
	t := CodeTable{Codes: map[string]Code{}}
	for _, c := range []Code{
		{"07.02.01.01", "21A070101", "Impozit pe clădiri, persoane fizice"},
		{"07.02.01.02", "21A070102", "Impozit pe clădiri, persoane juridice"},
		{"07.02.02.01", "21A070201", "Impozit pe teren, persoane fizice"},
		{"07.02.02.02", "21A070202", "Impozit pe teren, persoane juridice"},
		{"07.02.02.03", "21A070203", "Impozit pe terenul din extravilan"},
		{"16.02.02.01", "21A160201", "Impozit pe mijloacele de transport, persoane fizice"},
		{"16.02.02.02", "21A160202", "Impozit pe mijloacele de transport, persoane juridice"},
	} {
		t.Codes[c.Code] = c
	}
	return t
}

// CodesFor returns the code table of a municipality: the defaults with the
// entries of its settings' "budget_codes" object on top, e.g.
//
//	{"budget_codes": {"codes": {"07.02.50.00": {"code": "07.02.50.00", "account": "21A075000", "revenue": "..."}},
//	                  "late_fee_code": "07.02.50.00"}}
func CodesFor(settings string) (CodeTable, error) {
	t := DefaultCodes()
	if settings == "" {
		return t, nil
	}
	var s struct {
		BudgetCodes *CodeTable `json:"budget_codes"`
	}
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return t, fmt.Errorf("reports: municipality settings: %w", err)
	}
	if s.BudgetCodes != nil {
		for k, c := range s.BudgetCodes.Codes {
			c.Code = k
			t.Codes[k] = c
		}
		t.LateFeeCode = s.BudgetCodes.LateFeeCode
	}
	return t, nil
}

// lookup returns a code's entry; an unknown code keeps its number with an
// empty account and a note, so it still shows (and is summed) in reports.
func (t CodeTable) lookup(code string) Code {
	if code == CreditCode {
		return Code{Code: CreditCode, Revenue: "Sume încasate peste debit (creditul contribuabililor)"}
	}
	if c, ok := t.Codes[code]; ok {
		return c
	}
	return Code{Code: code, Revenue: "cod necunoscut în tabelul de coduri"}
}

// sorted lists the table's codes in order.
func (t CodeTable) sorted() []string {
	out := make([]string, 0, len(t.Codes))
	for k := range t.Codes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
