// Package synth generates a synthetic city for benchmarks and demos:
// taxpayers (individuals with valid CNPs, companies with valid CUIs), their
// vehicles with a plausible Romanian mix of categories, engine sizes, Euro
// norms and propulsion, past sales and deregistrations, their buildings
// (every construction type A-D with and without utilities, types E/F, every
// use) and their land (every location and use category).
// The output depends only on the seed and the size: the same arguments give
// the same city.
package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Taxpayer is one generated taxpayer with what they own.
type Taxpayer struct {
	Kind      fiscal.TaxpayerKind
	CNP       string // individuals
	CUI       string // companies
	Name      string
	Address   string
	Email     string
	Vehicles  []fiscal.Vehicle // TaxpayerID left zero
	Buildings []Building
	Lands     []Land
}

// Building is a generated building: the engine's object (Kind "building")
// and the ownership.
type Building struct {
	Address    string
	Object     calc.Object
	AcquiredOn civil.Date
	DisposedOn *civil.Date
}

// Land is a generated plot of land: the engine's object (Kind "land") and the
// ownership. The synthetic city has no separate land register: whoever writes
// it chooses the table (fiscald seed puts it beside the buildings, see
// cmd/fiscald/batch.go).
type Land Building

// Options size the city.
type Options struct {
	Seed uint64
	// Vehicles is the number of vehicle register entries to generate
	// (including past owners' deregistered entries).
	Vehicles int
	// Year is the tax year the city is built for: acquisitions run up to
	// it, and a few vehicles are bought (and some sold) within it.
	Year int
	// Buildings adds buildings (individuals' homes, companies' premises).
	// The first buildings of each owner kind walk the catalogue of every
	// construction type, utilities, basement/attic type and use, so even a
	// small city has each of them.
	Buildings bool
	// Lands adds land: the first plots walk every location and use category
	// (intravilan with and without buildings, each category; extravilan
	// each category), later ones lean to the common ones.
	Lands bool
}

var (
	firstNames = []string{"Andrei", "Ana", "Maria", "Ion", "Elena", "Mihai", "Ioana", "Alexandru", "Cristina", "Gabriel", "Daniela",
		"Florin", "Raluca", "Bogdan", "Simona", "Adrian", "Monica", "Vlad", "Oana", "Sorin", "Irina", "Radu", "Alina", "Ștefan", "Larisa"}
	lastNames = []string{"Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe", "Rusu", "Munteanu", "Matei", "Constantin",
		"Șerban", "Moldovan", "Lazăr", "Ciobanu", "Toma", "Marin", "Barbu", "Nistor", "Tudor", "Dragomir", "Mureșan", "Jurcă", "Negru"}
	streets = []string{"Bd. Revoluției din 1989", "Str. Mărășești", "Calea Aradului", "Calea Șagului", "Str. Gheorghe Lazăr",
		"Bd. Take Ionescu", "Calea Lipovei", "Str. Alba Iulia", "Bd. Liviu Rebreanu", "Calea Buziașului", "Str. Iosif Nemoianu",
		"Bd. Cetății", "Str. Ion Ionescu de la Brad", "Calea Torontalului", "Str. Eugeniu de Savoya"}
	companySuffix = []string{"SRL", "SRL", "SRL", "SA", "SRL-D"}
	companyWords  = []string{"Transbanat", "Timcom", "Logistica Vest", "Agro Timiș", "Construct Bega", "Dacia Service", "Euro Cargo",
		"Medivest", "Infotim", "Bega Impex", "Vest Auto", "Fructus", "Lemnarul", "Termo Confort", "Banat Trans"}
	// cc of common models per tax row of art. 470 alin. (2).
	ccSmall = []int{999, 1149, 1198, 1242, 1332, 1390, 1461, 1497, 1560, 1598}
	ccMid   = []int{1686, 1796, 1896, 1968, 1995}
	ccLarge = []int{2143, 2198, 2488, 2596}
	ccXL    = []int{2698, 2967, 2993}
	ccXXL   = []int{3198, 3498, 3996, 4395}
	motoCC  = []int{125, 250, 399, 599, 689, 803, 999, 1170, 1254, 1868}
)

type gen struct {
	r        *rand.Rand
	o        Options
	cnps     map[uint64]struct{}
	cuis     map[uint64]struct{}
	vin      int64
	nameSeq  int
	emitted  int
	sold     []*pending // vehicles sold to another taxpayer: the buyer's entry is made later
	streetNo int
	// seq counts the buildings and plots generated per catalogue.
	seq map[string]int
}

type pending struct {
	v    fiscal.Vehicle
	date civil.Date
}

// Generate produces taxpayers until o.Vehicles register entries exist and
// calls yield for each, in order.
func Generate(o Options, yield func(*Taxpayer) error) error {
	if o.Year == 0 {
		o.Year = 2026
	}
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), o: o,
		cnps: map[uint64]struct{}{}, cuis: map[uint64]struct{}{}, seq: map[string]int{}}
	for g.emitted < o.Vehicles {
		tp := g.taxpayer()
		if rem := o.Vehicles - g.emitted; len(tp.Vehicles) > rem {
			tp.Vehicles = tp.Vehicles[:rem]
		}
		g.emitted += len(tp.Vehicles)
		if err := yield(tp); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) date(fromYear, toYear int) civil.Date {
	start := civil.New(fromYear, time.January, 1)
	days := civil.New(toYear, time.December, 31).DaysSince(start)
	return start.AddDays(g.r.IntN(days + 1))
}

func (g *gen) address() string {
	return fmt.Sprintf("%s %d, Timișoara", g.pick(streets), 1+g.r.IntN(180))
}

func (g *gen) taxpayer() *Taxpayer {
	tp := &Taxpayer{Address: g.address()}
	company := g.r.IntN(100) < 6
	if company {
		tp.Kind = fiscal.Company
		tp.CUI = g.cui()
		tp.Name = fmt.Sprintf("%s %s %s", g.pick(companyWords), g.pick(lastNames), g.pick(companySuffix))
		tp.Email = "office" + tp.CUI + "@firma.example"
	} else {
		tp.Kind = fiscal.Individual
		tp.CNP = g.cnp()
		tp.Name = g.pick(firstNames) + " " + g.pick(lastNames)
		tp.Email = "contribuabil" + tp.CNP[7:] + "@example.ro"
	}
	// Vehicles: most individuals own one, companies a fleet.
	n := 0
	if company {
		n = 1 + int(g.r.ExpFloat64()*4)
		if n > 60 {
			n = 60
		}
	} else {
		switch x := g.r.IntN(100); {
		case x < 22:
			n = 0
		case x < 78:
			n = 1
		case x < 95:
			n = 2
		default:
			n = 3
		}
	}
	// A buyer of a vehicle sold earlier in the city takes it over.
	if len(g.sold) > 0 && g.r.IntN(4) == 0 {
		p := g.sold[len(g.sold)-1]
		g.sold = g.sold[:len(g.sold)-1]
		v := p.v
		v.AcquiredOn, v.DeregisteredOn = p.date, nil
		v.TaxedFromYear = calc.FirstTaxedYear(p.date)
		g.maybeEnd(&v, company)
		tp.Vehicles = append(tp.Vehicles, v)
	}
	for i := 0; i < n; i++ {
		tp.Vehicles = append(tp.Vehicles, g.vehicle(company))
	}
	if g.o.Buildings {
		g.buildings(tp, company)
	}
	if g.o.Lands {
		g.lands(tp, company)
	}
	return tp
}

// cnp is a valid, unique CNP: sex/century digit, birth date, Timiș or
// another county, a serial and the check digit (local-taxes.md §8).
func (g *gen) cnp() string {
	for {
		birth := g.date(1935, 2005)
		s := 1 + g.r.IntN(2)
		if birth.Year >= 2000 {
			s += 4
		}
		county := 35
		if g.r.IntN(3) == 0 {
			county = 1 + g.r.IntN(46)
		}
		b := []byte(fmt.Sprintf("%d%02d%02d%02d%02d%03d", s, birth.Year%100, int(birth.Month), birth.Day, county, 1+g.r.IntN(999)))
		w := [12]int{2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9}
		sum := 0
		for i, d := range b {
			sum += int(d-'0') * w[i]
		}
		c := sum % 11
		if c == 10 {
			c = 1
		}
		b = append(b, byte('0'+c))
		k, _ := strconv.ParseUint(string(b), 10, 64)
		if _, dup := g.cnps[k]; dup {
			continue
		}
		g.cnps[k] = struct{}{}
		return string(b)
	}
}

// cui is a valid, unique CUI of 8 digits with its check digit.
func (g *gen) cui() string {
	for {
		body := fmt.Sprintf("%09d", 1000000+g.r.IntN(49000000))
		w := [9]int{7, 5, 3, 2, 1, 7, 5, 3, 2}
		sum := 0
		for i := range w {
			sum += int(body[i]-'0') * w[i]
		}
		c := sum * 10 % 11
		if c == 10 {
			c = 0
		}
		k, _ := strconv.ParseUint(body, 10, 64)
		full := strconv.FormatUint(k, 10) + strconv.Itoa(c)
		if _, dup := g.cuis[k]; dup {
			continue
		}
		g.cuis[k] = struct{}{}
		return full
	}
}

const vinChars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

var wmis = []string{"UU1", "WVW", "WBA", "VF1", "TMB", "ZFA", "WDD", "VSS", "JTD", "KMH", "W0L", "YV1", "WF0"}

// vinFor is a unique 17-character VIN: a maker's WMI, a pseudo-random
// descriptor and a serial from the entry's index.
func (g *gen) vinFor() string {
	g.vin++
	b := []byte(g.pick(wmis))
	for i := 0; i < 6; i++ {
		b = append(b, vinChars[g.r.IntN(len(vinChars))])
	}
	serial := strconv.FormatInt(g.vin, 10)
	for len(b)+len(serial) < 17 {
		b = append(b, '0')
	}
	return string(append(b, serial...))
}

func (g *gen) plate() string {
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	return fmt.Sprintf("TM-%02d-%c%c%c", 1+g.r.IntN(99), letters[g.r.IntN(len(letters))], letters[g.r.IntN(len(letters))], letters[g.r.IntN(len(letters))])
}

func (g *gen) euro(acquired civil.Date) string {
	// Older acquisitions lean to older norms (Romania's fleet is old).
	x := g.r.IntN(100) + (acquired.Year-2012)*3
	switch {
	case x < 3:
		return "non_euro"
	case x < 12:
		return "euro2"
	case x < 30:
		return "euro3"
	case x < 55:
		return "euro4"
	case x < 80:
		return "euro5"
	default:
		return "euro6"
	}
}

func (g *gen) vehicle(company bool) fiscal.Vehicle {
	acquired := g.date(2005, g.o.Year-1)
	if g.r.IntN(100) < 2 { // bought this year: taxed from next year
		acquired = g.date(g.o.Year, g.o.Year)
		if acquired.Month > time.October {
			acquired.Month = time.October
		}
	}
	v := fiscal.Vehicle{VIN: g.vinFor(), Plate: g.plate(), AcquiredOn: acquired, Propulsion: "combustion"}
	x := g.r.IntN(1000)
	switch {
	case company && x < 120:
		v.Category = "truck"
		v.Object = calc.Object{Kind: "vehicle", Category: "truck", AirSuspension: g.r.IntN(2) == 0}
		if g.r.IntN(2) == 0 {
			v.Object.Axles, v.Object.MaxMassKg = 2, 12000+g.r.IntN(8000)
		} else {
			v.Object.Axles, v.Object.MaxMassKg = 3, 15000+g.r.IntN(8000)
		}
	case !company && x < 60, company && x < 140:
		v.Category = "motorcycle"
		v.EngineCC = motoCC[g.r.IntN(len(motoCC))]
		v.EmissionClass = g.euro(acquired)
	default:
		v.Category = "car"
		switch y := g.r.IntN(1000); {
		case y < 500:
			v.EngineCC = ccSmall[g.r.IntN(len(ccSmall))]
		case y < 850:
			v.EngineCC = ccMid[g.r.IntN(len(ccMid))]
		case y < 950:
			v.EngineCC = ccLarge[g.r.IntN(len(ccLarge))]
		case y < 980:
			v.EngineCC = ccXL[g.r.IntN(len(ccXL))]
		default:
			v.EngineCC = ccXXL[g.r.IntN(len(ccXXL))]
		}
		v.EmissionClass = g.euro(acquired)
		switch p := g.r.IntN(1000); {
		case p < 25 && acquired.Year >= 2015:
			v.Propulsion, v.EngineCC, v.EmissionClass = "electric", 0, ""
		case p < 70 && acquired.Year >= 2012:
			v.Propulsion, v.EmissionClass = "hybrid", "euro6"
			co2 := 90 + g.r.IntN(60)
			if g.r.IntN(5) == 0 {
				co2 = 20 + g.r.IntN(30) // plug-in
			}
			v.Object.CO2GKm = &co2
		}
		if !company && v.EngineCC > 0 && v.EngineCC < 2000 && g.r.IntN(200) == 0 {
			v.Object.Disability = "accentuated"
			if g.r.IntN(3) == 0 {
				v.Object.Disability = "severe"
			}
		}
	}
	if v.Category != "truck" {
		o := v.Object
		o.Kind, o.Category, o.EngineCC, o.EmissionClass, o.Propulsion = "vehicle", v.Category, v.EngineCC, v.EmissionClass, v.Propulsion
		v.Object = o
	}
	if company {
		v.Object.OwnerKind = calc.OwnerCompany
	}
	v.TaxedFromYear = calc.FirstTaxedYear(acquired)
	g.maybeEnd(&v, company)
	return v
}

// maybeEnd deregisters some entries: scrapped or exported, or sold to a
// buyer in the city (who gets a new entry for the same VIN), some within the
// tax year itself.
func (g *gen) maybeEnd(v *fiscal.Vehicle, company bool) {
	x := g.r.IntN(1000)
	var end civil.Date
	switch {
	case v.AcquiredOn.Year == g.o.Year && x < 150: // bought and sold within the year
		end = v.AcquiredOn.AddDays(10 + g.r.IntN(40))
	case v.AcquiredOn.Year < g.o.Year-1 && x < 110:
		end = g.date(v.AcquiredOn.Year+1, g.o.Year-1)
	case v.AcquiredOn.Year < g.o.Year && x < 125:
		end = g.date(g.o.Year, g.o.Year)
		if end.Month > time.October {
			end.Month = time.October
		}
	default:
		return
	}
	if end.Year > g.o.Year {
		return
	}
	v.DeregisteredOn = &end
	if g.r.IntN(2) == 0 && end.Year <= g.o.Year {
		g.sold = append(g.sold, &pending{v: *v, date: end})
	}
}

func dec(v float64) *decimal.Decimal {
	d := decimal.NewFromFloat(v).Round(2)
	return &d
}

// next returns the catalogue entry of the next object of a catalogue: the
// first n objects walk it in order, so a small city has every kind; later
// ones take the first (common) entry 90% of the time and any entry
// otherwise, which keeps a large city close to the earlier mix of mostly
// type A homes and companies' non-residential premises (the benchmarks'
// figures).
func (g *gen) next(name string, n int) int {
	i := g.seq[name]
	g.seq[name] = i + 1
	if i < n {
		return i
	}
	if g.r.IntN(10) != 0 {
		return 0
	}
	return g.r.IntN(n)
}

// buildingKind is a catalogue entry of buildings.
type buildingKind struct {
	use, ct, basement string
	utilities         bool
}

// individualBuildings covers art. 457 alin. (2): types A-D with and without
// utilities, E (a basement or attic dwelling) and F (other use), and the
// non-residential and mixed uses of art. 458 and 457 alin. (9).
var individualBuildings = []buildingKind{
	{"residential", "A", "", true}, {"residential", "A", "", false}, {"residential", "B", "", true}, {"residential", "B", "", false},
	{"residential", "C", "", true}, {"residential", "C", "", false}, {"residential", "D", "", true}, {"residential", "D", "", false},
	{"residential", "A", "dwelling", true}, {"residential", "B", "other", false},
	{"non_residential", "C", "", true}, {"mixed", "A", "", true},
}

// companyBuildings: art. 460 by declared taxable value, each use.
var companyBuildings = []buildingKind{{use: "non_residential"}, {use: "residential"}, {use: "mixed"}}

func (g *gen) buildings(tp *Taxpayer, company bool) {
	n := 0
	switch x := g.r.IntN(100); {
	case company && x < 45:
		n = 1 + g.r.IntN(3)
	case !company && x < 68:
		n = 1
	case !company && x < 76:
		n = 2
	}
	for i := 0; i < n; i++ {
		b := Building{Address: g.address(), AcquiredOn: g.date(1995, g.o.Year-1)}
		if company {
			k := companyBuildings[g.next("building.company", len(companyBuildings))]
			b.Object = calc.Object{Kind: "building", OwnerKind: calc.OwnerCompany, Use: k.use,
				TaxableValue: dec(float64(150000 + g.r.IntN(3000000)))}
			if k.use == "mixed" {
				b.Object.TaxableValue = nil
				b.Object.Parts = []calc.BuildingPart{{Use: "residential", TaxableValue: dec(float64(100000 + g.r.IntN(500000)))},
					{Use: "non_residential", TaxableValue: dec(float64(100000 + g.r.IntN(2000000)))}}
			}
		} else {
			k := individualBuildings[g.next("building.individual", len(individualBuildings))]
			util := k.utilities
			usable := 35 + g.r.IntN(90)
			b.Object = calc.Object{Kind: "building", OwnerKind: calc.OwnerIndividual, Use: k.use, ConstructionType: k.ct,
				BasementOrAttic: k.basement, Utilities: &util, Zone: string(rune('A' + g.r.IntN(4))), YearBuilt: 1900 + g.r.IntN(g.o.Year-1900)}
			if k.use == "mixed" {
				b.Object.Parts = []calc.BuildingPart{{Use: "residential", UsableAreaM2: dec(float64(usable))},
					{Use: "non_residential", UsableAreaM2: dec(float64(15 + g.r.IntN(60)))}}
			} else {
				b.Object.UsableAreaM2 = dec(float64(usable))
			}
		}
		if g.r.IntN(40) == 0 {
			d := g.date(b.AcquiredOn.Year+1, g.o.Year)
			if d.Year <= g.o.Year && d.After(b.AcquiredOn) {
				b.DisposedOn = &d
			}
		}
		tp.Buildings = append(tp.Buildings, b)
	}
}

// landKind is a catalogue entry of land: location, use category and whether
// the plot is small (at most the 400 m² of art. 465 alin. (3), taxed as land
// with buildings).
type landKind struct {
	location, category string
	small              bool
}

// landKinds: intravilan with buildings, each other category above 400 m²
// and one below it, and extravilan each category (art. 465).
var landKinds = func() []landKind {
	ks := []landKind{{"intravilan", "constructions", false}}
	for _, c := range calc.LandUseCategories[1:] {
		ks = append(ks, landKind{"intravilan", c, false})
	}
	ks = append(ks, landKind{"intravilan", "arable", true})
	for _, c := range calc.LandUseCategories {
		ks = append(ks, landKind{"extravilan", c, false})
	}
	return ks
}()

func (g *gen) lands(tp *Taxpayer, company bool) {
	n := 0
	switch x := g.r.IntN(100); {
	case company && x < 30:
		n = 1 + g.r.IntN(2)
	case !company && x < 55:
		n = 1
	case !company && x < 62:
		n = 2
	}
	for i := 0; i < n; i++ {
		k := landKinds[g.next("land", len(landKinds))]
		var area int
		switch {
		case k.small:
			area = 150 + g.r.IntN(250)
		case k.location == "intravilan" && k.category == "constructions":
			area = 250 + g.r.IntN(1500)
		case k.location == "intravilan":
			area = 2000 + g.r.IntN(20000)
		default:
			area = 10000 + g.r.IntN(90000)
		}
		owner := calc.OwnerIndividual
		if company {
			owner = calc.OwnerCompany
		}
		l := Land{Address: g.address(), AcquiredOn: g.date(1995, g.o.Year-1),
			Object: calc.Object{Kind: "land", OwnerKind: owner, Location: k.location, UseCategory: k.category,
				Zone: string(rune('A' + g.r.IntN(4))), AreaM2: dec(float64(area))}}
		if g.r.IntN(40) == 0 {
			d := g.date(l.AcquiredOn.Year+1, g.o.Year)
			if d.Year <= g.o.Year && d.After(l.AcquiredOn) {
				l.DisposedOn = &d
			}
		}
		tp.Lands = append(tp.Lands, l)
	}
}
