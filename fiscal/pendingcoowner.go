package fiscal

import (
	"fmt"

	"fiscald/calc"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// A co-owner named in an approved acquisition who was not in the registry
// (PropertyPlan.Pending): their share stays reserved and is entered when a
// taxpayer with that CNP/CUI is created, taxed from the year the
// declaration gave, in the same transaction.

// PendingEntry plans a late co-owner's holding: h is the holding to enter
// (the object's data copied from the declaring owner's, the share and the
// first taxed year the declaration gave), objectOf gives the building's
// data of a year (they may have changed since), assessed the owner's sums
// of that tax type by year. Each year from the first taxed year to today's
// is assessed on the owner's share; a year whose tax does not compute is
// left to the staff (skipped, named in the second result) rather than
// refusing the taxpayer's registration.
func PendingEntry(e *calc.Engine, slug, ownerKind string, h Holding, kind string, objectOf func(year int) calc.Object,
	assessed map[int]money.Bani, today civil.Date) ([]NewAssessment, []string) {
	var out []NewAssessment
	var skipped []string
	for y := h.FirstTaxedYear(); y <= today.Year; y++ {
		obj := objectOf(y)
		obj.Kind, obj.OwnerKind = kind, ownerKind
		as, inst, bonus, err := shareTax(e, slug, y, obj, int64(h.Share), assessed[y])
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%d: %s", y, err))
			continue
		}
		out = append(out, NewAssessment{TaxpayerID: h.TaxpayerID, TaxType: kind, ObjectKind: kind, Year: y, Assessment: as,
			Installments: inst, Bonus: bonus, Source: "case"})
	}
	return out, skipped
}
