package calc

import (
	"fmt"

	"github.com/shopspring/decimal"

	"fiscald/internal/money"
)

// SharePartsWhole is the whole of an object in share parts: a co-owner's
// share is an exact number of parts per 10,000 (6000 = 60%).
const SharePartsWhole = 10000

const roundingLabel = "Rotunjire la leu"

// ShareOf is a co-owner's assessment of their share of an object (art. 455
// alin. (3), 463 alin. (3): each co-owner owes the tax on their part): the
// object's tax before its rounding to whole lei × parts / 10,000, kept at 2
// decimals, then rounded to whole lei by RoundLei, once, per owner. The lines
// are the object's lines, a line for the share and the owner's rounding line,
// so they still add up to Annual. A whole share returns a unchanged.
func ShareOf(a Assessment, parts int64) (Assessment, error) {
	if parts <= 0 || parts > SharePartsWhole {
		return Assessment{}, fmt.Errorf("calc: share of %d parts out of %d", parts, SharePartsWhole)
	}
	if parts == SharePartsWhole {
		return a, nil
	}
	lines := make([]Line, 0, len(a.Lines)+2)
	var before int64 // the object's tax before rounding, in bani
	for _, l := range a.Lines {
		if l.Label == roundingLabel {
			continue
		}
		lines = append(lines, l)
		before += int64(l.Amount)
	}
	share := decimal.New(parts, 0).Div(decimal.New(SharePartsWhole, 0))
	part := bani(money.Bani(before).Decimal().Mul(share))
	lines = append(lines, Line{"Cota-parte a proprietarului: " + share.Mul(decimal.New(100, 0)).StringFixed(2) + "%",
		"Codul fiscal art. 455 alin. (3), art. 463 alin. (3)", part - money.Bani(before)})
	out := a
	out.Annual, out.Lines = finishBani(lines, int64(part))
	return out, nil
}
