package calc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/internal/money"
)

// Vehicle is the typed description of a vehicle for the tax of art. 470.
type Vehicle struct {
	Category      string // car, motorcycle, bus, light_goods, tractor, registered, truck, trailer, boat
	EngineCC      int    // CIV field P.1 (0 for a registered vehicle without a recorded capacity)
	EmissionClass string // non_euro, euro0 ... euro6 (CIV field 16)
	Propulsion    string // combustion, hybrid, electric
	CO2GKm        *int   // hybrids
	Axles         int    // trucks
	MaxMassKg     int    // trucks and trailers
	AirSuspension bool   // trucks
	Sidecar       bool   // a side-car of a motorcycle of EngineCC
	Disability    string // "", severe, accentuated
	BoatType      string // boats: parameter suffix of vehicle.boat.<type>
}

// Vehicle returns the vehicle fields of o.
func (o Object) Vehicle() Vehicle {
	return Vehicle{o.Category, o.EngineCC, o.EmissionClass, o.Propulsion, o.CO2GKm, o.Axles, o.MaxMassKg,
		o.AirSuspension, o.Sidecar, o.Disability, o.BoatType}
}

// VehicleAnnualTax computes the annual vehicle tax (Codul fiscal art. 470) of v
// in the municipality and year, rounded to whole lei, with its lines.
func (e *Engine) VehicleAnnualTax(municipality string, year int, v Vehicle) (money.Bani, []Line, error) {
	a, err := e.Annual(municipality, year, Object{Kind: TaxVehicle, Category: v.Category, EngineCC: v.EngineCC,
		EmissionClass: v.EmissionClass, Propulsion: v.Propulsion, CO2GKm: v.CO2GKm, Axles: v.Axles,
		MaxMassKg: v.MaxMassKg, AirSuspension: v.AirSuspension, Sidecar: v.Sidecar, Disability: v.Disability,
		BoatType: v.BoatType})
	return a.Annual, a.Lines, err
}

var engineCategories = map[string]bool{"car": true, "motorcycle": true, "bus": true, "light_goods": true, "tractor": true}

// engineKeys holds the keys vehicle.engine.row<r>.<column>, built once;
// columns euro0_3, euro4, euro5, euro6, hybrid.
var engineKeys [9][5]string

func init() {
	for r := 1; r <= 8; r++ {
		for c, name := range []string{"euro0_3", "euro4", "euro5", "euro6", "hybrid"} {
			engineKeys[r][c] = "vehicle.engine.row" + strconv.Itoa(r) + "." + name
		}
	}
}

var carRowKeys = [...]string{1: "vehicle.engine.car.row1.max_cc", 3: "vehicle.engine.car.row3.max_cc",
	4: "vehicle.engine.car.row4.max_cc", 5: "vehicle.engine.car.row5.max_cc"}

var rowNames = [...]string{1: "motorcycles, tricycles, quadricycles and cars up to the row 1 limit",
	2: "motorcycles, tricycles, quadricycles over the row 1 limit", 3: "cars of row 3", 4: "cars of row 4",
	5: "cars of row 5", 6: "cars of row 6 (largest engines)", 7: "buses, coaches, minibuses",
	8: "other motor vehicles up to 12 t"}

const (
	art470   = "Codul fiscal art. 470 alin. (2)"
	art470_2 = "Codul fiscal art. 470 alin. (2^2)"
)

// vehicleTax applies art. 470-472 (and art. 469 and 489 for reductions and
// the council surcharge) to one vehicle. Amounts are integer bani: every
// intermediate result is kept at 2 decimals (round2), so bani are exact.
func vehicleTax(l *lookup, v Vehicle) (money.Bani, []Line, error) {
	var (
		base  int64 // bani
		lines = make([]Line, 0, 4)
	)
	surchargeKey := "vehicle.surcharge_pct"
	switch {
	case v.Propulsion == "electric" && engineCategories[v.Category]:
		// art. 470 alin. (2): a fixed yearly amount for electric vehicles.
		d, err := l.indexed("vehicle.electric.annual", "electric vehicles")
		if err != nil {
			return 0, nil, err
		}
		base = int64(bani(d))
		lines = append(lines, Line{"Vehicul electric, sumă fixă anuală", l.cite(art470, "vehicle.electric.annual"), money.Bani(base)})
		surchargeKey = "vehicle.electric.surcharge_pct"
	case v.Category == "tractor" || v.Category == "registered":
		var err error
		if base, lines, err = perGroupTax(l, v, lines); err != nil {
			return 0, nil, err
		}
	case engineCategories[v.Category]:
		var err error
		if base, lines, err = engineTax(l, v, lines); err != nil {
			return 0, nil, err
		}
	case v.Category == "truck":
		d, key, err := truckTax(l, v)
		if err != nil {
			return 0, nil, err
		}
		base = int64(bani(d))
		susp := "alte sisteme de suspensie"
		if v.AirSuspension {
			susp = "suspensie pneumatică"
		}
		lines = append(lines, Line{fmt.Sprintf("Autovehicul de transport marfă ≥ 12 t, %d axe, %d kg, %s", v.Axles, v.MaxMassKg, susp),
			l.cite("Codul fiscal art. 470 alin. (5)", key), money.Bani(base)})
	case v.Category == "trailer":
		// art. 470 alin. (7): trailers by mass band.
		d, key, err := banded(l, "vehicle.trailer.", v.MaxMassKg, "", fmt.Sprintf("trailers of %d kg", v.MaxMassKg), true)
		if err != nil {
			return 0, nil, err
		}
		base = int64(bani(d))
		lines = append(lines, Line{fmt.Sprintf("Remorcă, semiremorcă, rulotă de %d kg", v.MaxMassKg), l.cite("Codul fiscal art. 470 alin. (7)", key), money.Bani(base)})
	case v.Category == "boat":
		// art. 470 alin. (8): water vehicles by type.
		d, err := l.indexed("vehicle.boat."+v.BoatType, "water vehicles of type "+v.BoatType)
		if err != nil {
			return 0, nil, err
		}
		base = int64(bani(d))
		lines = append(lines, Line{"Mijloc de transport pe apă: " + v.BoatType, l.cite("Codul fiscal art. 470 alin. (8)", "vehicle.boat."+v.BoatType), money.Bani(base)})
	}

	total := base
	// art. 489: the council's surcharge, applied before rounding (HG 1/2016 pct. 11).
	sp, err := l.res(surchargeKey, "the council surcharge on vehicle tax")
	if err != nil {
		return 0, nil, err
	}
	if !sp.dec.IsZero() {
		s := mulRound(total, sp, -2)
		lines = append(lines, Line{"Cotă adițională " + sp.ds + "% (hotărârea consiliului local)", l.cite("Codul fiscal art. 489", surchargeKey), money.Bani(s)})
		total += s
	}
	// art. 469 as amended by OUG 9/2026: reduction for one vehicle of a person with disability.
	if v.Disability != "" {
		red, err := l.res("vehicle.disability."+v.Disability+".reduction_pct", "the "+v.Disability+" disability reduction")
		if err != nil {
			return 0, nil, err
		}
		below, err := l.int("vehicle.disability.cc_below", "the engine limit of the disability reduction")
		if err != nil {
			return 0, nil, err
		}
		if v.EngineCC >= below {
			return 0, nil, InputErrors{{"object.disability", fmt.Sprintf("the reduction applies only to a vehicle under %d cm³", below)}}
		}
		r := mulRound(total, red, -2)
		lines = append(lines, Line{"Reducere persoană cu handicap " + v.Disability + " " + red.ds + "%", "Codul fiscal art. 469, OUG 9/2026", money.Bani(-r)})
		total -= r
	}
	annual, lines := finishBani(lines, total)
	return annual, lines, nil
}

// engineTax is art. 470 alin. (2)-(3): ceil(cm³ / 200) groups × the rate of the
// vehicle's row and Euro column, the hybrid column for hybrids, half for a
// side-car. It returns the base in bani.
func engineTax(l *lookup, v Vehicle, lines []Line) (int64, []Line, error) {
	row, err := vehicleRow(l, v)
	if err != nil {
		return 0, nil, err
	}
	col, colName := 0, "non-Euro, Euro 0-3"
	switch {
	case v.Propulsion == "hybrid":
		col, colName = 4, "hybrid"
	case v.EmissionClass == "euro4":
		col, colName = 1, "Euro 4"
	case v.EmissionClass == "euro5":
		col, colName = 2, "Euro 5"
	case v.EmissionClass == "euro6":
		col, colName = 3, "Euro 6"
	}
	rate, err := l.indexedRes(engineKeys[row][col], "")
	if err != nil {
		err.(*MissingParamError).What = fmt.Sprintf("%s (art. 470 (2) row %d), %s", rowNames[row], row, colName)
		return 0, nil, err
	}
	groupCC, err := l.int("vehicle.engine.group_cc", "the engine capacity group")
	if err != nil {
		return 0, nil, err
	}
	groups := (v.EngineCC + groupCC - 1) / groupCC // HG 1/2016 pct. 114: a fraction is a full group
	base := mulRound(int64(groups), rate, 2)
	label := make([]byte, 0, 96)
	label = strconv.AppendInt(label, int64(v.EngineCC), 10)
	label = append(label, " cm³: "...)
	label = strconv.AppendInt(label, int64(groups), 10)
	label = append(label, " × "...)
	label = strconv.AppendInt(label, int64(groupCC), 10)
	label = append(label, " cm³ × "...)
	label = append(label, rate.ds...)
	label = append(label, " lei (rândul "...)
	label = strconv.AppendInt(label, int64(row), 10)
	label = append(label, ", "...)
	label = append(label, colName...)
	label = append(label, ')')
	lines = append(lines, Line{string(label), l.cite(art470, engineKeys[row][col]), money.Bani(base)})
	if v.Propulsion == "hybrid" {
		maxCO2, err := l.int("vehicle.hybrid.low_co2.max_g_km", "the CO2 limit of low-emission hybrids")
		if err != nil {
			return 0, nil, err
		}
		if *v.CO2GKm <= maxCO2 {
			red, err := l.res("vehicle.hybrid.low_co2.reduction_pct", "the council reduction for low-emission hybrids")
			if err != nil {
				return 0, nil, err
			}
			if !red.dec.IsZero() {
				r := mulRound(base, red, -2)
				lines = append(lines, Line{fmt.Sprintf("Reducere hibrid ≤ %d g CO₂/km %s%%", maxCO2, red.ds),
					l.cite("Codul fiscal art. 470 alin. (3)", "vehicle.hybrid.low_co2.reduction_pct"), money.Bani(-r)})
				base -= r
			}
		}
	}
	if v.Sidecar {
		share, err := l.res("vehicle.sidecar.share_pct", "side-cars")
		if err != nil {
			return 0, nil, err
		}
		s := mulRound(base, share, -2)
		lines = append(lines, Line{"Ataș: " + share.ds + "% din impozitul motocicletei", "Codul fiscal art. 470 alin. (3)", money.Bani(s - base)})
		base = s
	}
	return base, lines, nil
}

// vehicleRow places a vehicle in a row of the table of art. 470 alin. (2).
func vehicleRow(l *lookup, v Vehicle) (int, error) {
	switch v.Category {
	case "motorcycle":
		limit, err := l.int("vehicle.engine.motorcycle.row1.max_cc", "the motorcycle capacity band")
		if err != nil {
			return 0, err
		}
		if v.EngineCC <= limit {
			return 1, nil
		}
		return 2, nil
	case "car":
		for _, row := range []int{1, 3, 4, 5} {
			limit, err := l.int(carRowKeys[row], "the car capacity bands")
			if err != nil {
				return 0, err
			}
			if v.EngineCC <= limit {
				return row, nil
			}
		}
		return 6, nil
	case "bus":
		return 7, nil
	default: // light_goods
		return 8, nil
	}
}

// perGroupTax is art. 470 alin. (2^2), in force from 2026: registered
// tractors pay a national amount per 200 cm³; registered (not
// road-registered) vehicles an amount per 200 cm³ the council chooses within
// the law's range, by capacity, or a yearly amount when no capacity is
// recorded. These amounts are indexed yearly (art. 491).
func perGroupTax(l *lookup, v Vehicle, lines []Line) (int64, []Line, error) {
	var key, what, label string
	switch {
	case v.Category == "tractor":
		key, what, label = "vehicle.tractor.per_group", "registered tractors (art. 470 (2^2))", "Tractor înmatriculat"
	case v.EngineCC == 0:
		d, err := l.indexed("vehicle.registered.no_cc.annual", "registered vehicles without a recorded engine capacity (art. 470 (2^2))")
		if err != nil {
			return 0, nil, err
		}
		b := int64(bani(d))
		return b, append(lines, Line{"Vehicul înregistrat fără capacitate cilindrică evidențiată, sumă anuală",
			l.cite(art470_2, "vehicle.registered.no_cc.annual"), money.Bani(b)}), nil
	default:
		limit, err := l.int("vehicle.registered.large.min_cc", "the capacity limit of registered vehicles")
		if err != nil {
			return 0, nil, err
		}
		if v.EngineCC < limit {
			key, what = "vehicle.registered.small.per_group", fmt.Sprintf("registered vehicles under %d cm³ (art. 470 (2^2))", limit)
			label = fmt.Sprintf("Vehicul înregistrat < %d cm³", limit)
		} else {
			key, what = "vehicle.registered.large.per_group", fmt.Sprintf("registered vehicles of %d cm³ or more (art. 470 (2^2))", limit)
			label = fmt.Sprintf("Vehicul înregistrat ≥ %d cm³", limit)
		}
	}
	rate, err := l.indexedRes(key, what)
	if err != nil {
		return 0, nil, err
	}
	groupCC, err := l.int("vehicle.engine.group_cc", "the engine capacity group")
	if err != nil {
		return 0, nil, err
	}
	groups := (v.EngineCC + groupCC - 1) / groupCC
	base := mulRound(int64(groups), rate, 2)
	lines = append(lines, Line{fmt.Sprintf("%s, %d cm³: %d × %d cm³ × %s lei", label, v.EngineCC, groups, groupCC, rate.ds),
		l.cite(art470_2, key), money.Bani(base)})
	return base, lines, nil
}

// truckTax is art. 470 alin. (5): a yearly amount by axles, mass band and
// suspension, set by the council (indexed by the euro rate, art. 491
// alin. (2)); there is no national default.
func truckTax(l *lookup, v Vehicle) (decimal.Decimal, string, error) {
	susp := ".other"
	if v.AirSuspension {
		susp = ".air"
	}
	return banded(l, "vehicle.truck.axles"+strconv.Itoa(v.Axles)+".", v.MaxMassKg, susp,
		fmt.Sprintf("trucks >= 12 t, %d axles, %d kg", v.Axles, v.MaxMassKg), true)
}

// banded finds, among the keys prefix+"mass<lo>-<hi>"+suffix, the band with
// lo <= mass < hi (an empty hi is open) in force for the year, and returns
// its value and key. Indexed tables (trailers, art. 491) only count entries
// of the tax year itself.
func banded(l *lookup, prefix string, mass int, suffix, what string, indexed bool) (decimal.Decimal, string, error) {
	for _, k := range l.set.Keys(prefix) {
		rest, ok := strings.CutPrefix(k, prefix+"mass")
		if !ok || !strings.HasSuffix(rest, suffix) {
			continue
		}
		loS, hiS, ok := strings.Cut(strings.TrimSuffix(rest, suffix), "-")
		lo, err1 := strconv.Atoi(loS)
		hi, err2 := strconv.Atoi(hiS)
		if !ok || err1 != nil || (hiS != "" && err2 != nil) || mass < lo || (hiS != "" && mass >= hi) {
			continue
		}
		get := l.dec
		if indexed {
			get = l.indexed
		}
		if v, err := get(k, what); err == nil {
			return v, k, nil
		}
	}
	return decimal.Decimal{}, "", l.missing(prefix+"*", what)
}
