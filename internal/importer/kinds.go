package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// A kind is a small adapter: the contract's columns, and a parse that
// turns one record into a checked fiscal.ImportRow (or field errors). The
// store upserts the row by its external id.
type kind struct {
	name    string
	columns []string
	parse   func(r *row) *fiscal.ImportRow
	// unique lists the values no two rows of one file may share (a key per
	// column): the external id, the CNP/CUI, an active VIN.
	unique func(ir *fiscal.ImportRow) [][2]string
}

var kinds = map[string]*kind{
	fiscal.ImportTaxpayers: {
		name:    fiscal.ImportTaxpayers,
		columns: []string{"external_id", "kind", "cnp", "cui", "name", "address", "email", "phone"},
		parse:   parseTaxpayer,
		unique: func(ir *fiscal.ImportRow) [][2]string {
			in := ir.Taxpayer.Input
			k := [][2]string{{"external_id", ir.ExternalID}}
			if in.CNP != "" {
				k = append(k, [2]string{"cnp", in.CNP})
			}
			if in.CUI != "" {
				k = append(k, [2]string{"cui", in.CUI})
			}
			return k
		},
	},
	fiscal.ImportVehicles: {
		name: fiscal.ImportVehicles,
		columns: []string{"external_id", "owner_external_id", "vin", "plate", "category", "engine_cc", "emission_class",
			"propulsion", "co2_g_km", "max_mass_kg", "axles", "air_suspension", "acquired_on", "deregistered_on"},
		parse: parseVehicle,
		unique: func(ir *fiscal.ImportRow) [][2]string {
			k := [][2]string{{"external_id", ir.ExternalID}}
			if ir.Vehicle.Vehicle.DeregisteredOn == nil {
				k = append(k, [2]string{"vin", ir.Vehicle.Vehicle.VIN})
			}
			return k
		},
	},
	fiscal.ImportBuildings: {
		name: fiscal.ImportBuildings,
		columns: []string{"external_id", "owner_external_id", "share", "address", "cadastral_number", "use", "construction_type",
			"basement_or_attic", "utilities", "built_area_m2", "usable_area_m2", "zone", "year_built", "acquired_on", "disposed_on"},
		parse:  parseBuilding,
		unique: func(ir *fiscal.ImportRow) [][2]string { return [][2]string{{"external_id", ir.ExternalID}} },
	},
	fiscal.ImportLands: {
		name: fiscal.ImportLands,
		columns: []string{"external_id", "owner_external_id", "share", "address", "cadastral_number", "location", "zone",
			"use_category", "area_m2", "acquired_on", "disposed_on"},
		parse:  parseLand,
		unique: func(ir *fiscal.ImportRow) [][2]string { return [][2]string{{"external_id", ir.ExternalID}} },
	},
	fiscal.ImportBalances: {
		name:    fiscal.ImportBalances,
		columns: []string{"owner_external_id", "tax_type", "year", "installment", "due_date", "principal", "paid", "object_external_id", "budget_code"},
		parse:   parseBalance,
		unique:  func(ir *fiscal.ImportRow) [][2]string { return [][2]string{{"owner_external_id", ir.ExternalID}} },
	},
}

// Kinds lists the kinds this build imports, in the order a takeover
// imports them (owners before what they own and owe).
func Kinds() []string {
	return []string{fiscal.ImportTaxpayers, fiscal.ImportVehicles, fiscal.ImportBuildings, fiscal.ImportLands, fiscal.ImportBalances}
}

// Columns returns the contract's columns of a kind (nil when unknown).
func Columns(k string) []string {
	if x, ok := kinds[k]; ok {
		return x.columns
	}
	return nil
}

// row is one record being checked: its values by column and its errors.
type row struct {
	line   int
	cols   map[string]int
	rec    []string
	xlsx   bool
	errors []fiscal.ImportError
}

func (r *row) get(col string) string { return strings.TrimSpace(r.rec[r.cols[col]]) }

func (r *row) fail(col, msg string) {
	r.errors = append(r.errors, fiscal.ImportError{Line: r.line, Field: col, Message: msg})
}

// text reads a free-text column: at most max characters, no control or
// bidirectional formatting characters; required when min > 0.
func (r *row) text(col string, min, max int) string {
	v := r.get(col)
	n := utf8.RuneCountInString(v)
	switch {
	case v == "" && min > 0:
		r.fail(col, "is required")
	case n > 0 && n < min:
		r.fail(col, "must have at least "+strconv.Itoa(min)+" characters")
	case n > max:
		r.fail(col, "must have at most "+strconv.Itoa(max)+" characters")
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		r.fail(col, "must not contain control characters")
	case fiscal.HasBidiControl(v):
		r.fail(col, "must not contain bidirectional formatting characters")
	default:
		return v
	}
	return ""
}

var externalIDRe = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)

func (r *row) externalID(col string, required bool) string {
	v := r.get(col)
	if v == "" {
		if required {
			r.fail(col, "is required")
		}
		return ""
	}
	if !externalIDRe.MatchString(v) {
		r.fail(col, "must be 1-64 letters, digits or . _ : / -")
		return ""
	}
	return v
}

func (r *row) enum(col string, required bool, allowed ...string) string {
	v := strings.ToLower(r.get(col))
	if v == "" {
		if required {
			r.fail(col, "is required")
		}
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(col, "must be one of "+strings.Join(allowed, ", "))
	return ""
}

// integer reads a whole number in [min, max]; empty is 0 (ok=false).
func (r *row) integer(col string, required bool, min, max int) (int, bool) {
	v := r.get(col)
	if v == "" {
		if required {
			r.fail(col, "is required")
		}
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(col, "must be a whole number")
		return 0, false
	}
	if n < min || n > max {
		r.fail(col, "must be between "+strconv.Itoa(min)+" and "+strconv.Itoa(max))
		return 0, false
	}
	return n, true
}

func (r *row) boolean(col string) bool {
	switch strings.ToLower(r.get(col)) {
	case "", "0", "false", "no", "nu", "n":
		return false
	case "1", "true", "yes", "da", "y", "d":
		return true
	}
	r.fail(col, "must be true or false (or da/nu, 1/0)")
	return false
}

// date reads YYYY-MM-DD or DD.MM.YYYY (and, in a workbook, a date cell's
// serial number).
func (r *row) date(col string, required bool) *civil.Date {
	v := r.get(col)
	if v == "" {
		if required {
			r.fail(col, "is required")
		}
		return nil
	}
	d, ok := parseDate(v, r.xlsx)
	if !ok {
		r.fail(col, "must be a date YYYY-MM-DD (or DD.MM.YYYY)")
		return nil
	}
	if d.Year < 1900 || d.Year > 2100 {
		r.fail(col, "must be between 1900 and 2100")
		return nil
	}
	return &d
}

func parseDate(v string, xlsx bool) (civil.Date, bool) {
	if d, err := civil.Parse(v); err == nil {
		return d, true
	}
	if len(v) == 10 && v[2] == '.' && v[5] == '.' {
		if d, err := civil.Parse(v[6:] + "-" + v[3:5] + "-" + v[:2]); err == nil {
			return d, true
		}
	}
	if xlsx {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 100000 && f == float64(int64(f)) {
			if t, err := excelize.ExcelDateToTime(f, false); err == nil {
				return civil.Of(t.UTC().Add(time.Hour)), true
			}
		}
	}
	return civil.Date{}, false
}

// amount reads lei with a dot or a comma as the decimal separator (no
// thousands separators, at most two decimals) into exact bani.
func (r *row) amount(col string, required bool) money.Bani {
	v := r.get(col)
	if v == "" {
		if required {
			r.fail(col, "is required")
		}
		return 0
	}
	b, ok := parseAmount(v)
	if !ok {
		r.fail(col, "must be an amount in lei, e.g. 1234.56 or 1234,56 (no thousands separators, at most two decimals)")
		return 0
	}
	if b < 0 {
		r.fail(col, "must not be negative")
		return 0
	}
	return b
}

func parseAmount(v string) (money.Bani, bool) {
	if strings.Contains(v, ",") {
		if strings.Contains(v, ".") || strings.Count(v, ",") > 1 {
			return 0, false
		}
		v = strings.Replace(v, ",", ".", 1)
	}
	b, err := money.Parse(v)
	return b, err == nil
}

// hashOf is the hash of a row's normalised values: the same data written
// differently ("12,5" and "12.50") hashes alike.
func hashOf(kind string, vals ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, v := range vals {
		h.Write([]byte{0x1f})
		h.Write([]byte(v))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func parseTaxpayer(r *row) *fiscal.ImportRow {
	ext := r.externalID("external_id", true)
	in := fiscal.TaxpayerInput{Kind: fiscal.TaxpayerKind(r.enum("kind", true, "individual", "company"))}
	cnp, cui := r.get("cnp"), r.get("cui")
	switch in.Kind {
	case fiscal.Individual:
		if cui != "" {
			r.fail("cui", "must be empty for an individual")
		}
		if cnp == "" {
			r.fail("cnp", "is required for an individual")
		} else if why := fiscal.CheckCNP(cnp); why != "" {
			r.fail("cnp", "invalid CNP: "+why)
		} else {
			in.CNP = cnp
		}
	case fiscal.Company:
		if cnp != "" {
			r.fail("cnp", "must be empty for a company")
		}
		if cui == "" {
			r.fail("cui", "is required for a company")
		} else if why := fiscal.CheckCUI(cui); why != "" {
			r.fail("cui", "invalid CUI: "+why)
		} else {
			in.CUI = fiscal.NormalizeCUI(cui)
		}
	}
	in.Name = r.text("name", 2, 200)
	in.Address = r.text("address", 3, 300)
	if email := r.text("email", 0, 200); email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			r.fail("email", "must be an e-mail address")
		} else {
			in.Email = email
		}
	}
	in.Phone = r.text("phone", 0, 30)
	if len(r.errors) > 0 {
		return nil
	}
	return &fiscal.ImportRow{Line: r.line, ExternalID: ext, Taxpayer: &fiscal.ImportTaxpayer{Input: in},
		Hash: hashOf(fiscal.ImportTaxpayers, string(in.Kind), in.CNP, in.CUI, in.Name, in.Address, in.Email, in.Phone)}
}

func parseVehicle(r *row) *fiscal.ImportRow {
	ext := r.externalID("external_id", true)
	owner := r.externalID("owner_external_id", true)
	vin := strings.ToUpper(r.get("vin"))
	if vin == "" {
		r.fail("vin", "is required")
	} else if why := fiscal.CheckVIN(vin); why != "" {
		r.fail("vin", "invalid VIN: "+why)
	}
	plate := strings.ToUpper(strings.ReplaceAll(r.text("plate", 0, 15), " ", ""))
	o := calc.Object{Kind: calc.TaxVehicle, Category: strings.ToLower(r.get("category")), EmissionClass: strings.ToLower(r.get("emission_class")),
		Propulsion: strings.ToLower(r.get("propulsion"))}
	o.EngineCC, _ = r.integer("engine_cc", false, 0, 100000)
	if co2, ok := r.integer("co2_g_km", false, 0, 2000); ok {
		o.CO2GKm = &co2
	}
	o.MaxMassKg, _ = r.integer("max_mass_kg", false, 0, 200000)
	o.Axles, _ = r.integer("axles", false, 0, 20)
	o.AirSuspension = r.boolean("air_suspension")
	acquired := r.date("acquired_on", true)
	dereg := r.date("deregistered_on", false)
	if acquired != nil && dereg != nil && dereg.Before(*acquired) {
		r.fail("deregistered_on", "must not be before acquired_on")
	}
	year := 2026
	if acquired != nil {
		year = acquired.Year
	}
	for _, fe := range calc.ValidateObject(year, o) {
		r.fail(strings.TrimPrefix(fe.Field, "object."), fe.Message)
	}
	if len(r.errors) > 0 {
		return nil
	}
	v := fiscal.Vehicle{VIN: vin, Plate: plate, Category: o.Category, EngineCC: o.EngineCC, EmissionClass: o.EmissionClass, Propulsion: o.Propulsion,
		AcquiredOn: *acquired, DeregisteredOn: dereg, TaxedFromYear: calc.FirstTaxedYear(*acquired), Object: o}
	co2 := ""
	if o.CO2GKm != nil {
		co2 = strconv.Itoa(*o.CO2GKm)
	}
	deregS := ""
	if dereg != nil {
		deregS = dereg.String()
	}
	return &fiscal.ImportRow{Line: r.line, ExternalID: ext, Vehicle: &fiscal.ImportVehicle{OwnerExternalID: owner, Vehicle: v},
		Hash: hashOf(fiscal.ImportVehicles, owner, vin, plate, o.Category, strconv.Itoa(o.EngineCC), o.EmissionClass, o.Propulsion, co2,
			strconv.Itoa(o.MaxMassKg), strconv.Itoa(o.Axles), strconv.FormatBool(o.AirSuspension), acquired.String(), deregS)}
}

var budgetCodeRe = regexp.MustCompile(`^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{2}$`)

// balanceObjectKinds maps a balance's tax type to the import kind its
// object_external_id is looked up in.
var balanceObjectKinds = map[string]string{calc.TaxVehicle: fiscal.ImportVehicles, calc.TaxBuilding: fiscal.ImportBuildings, calc.TaxLand: fiscal.ImportLands}

func parseBalance(r *row) *fiscal.ImportRow {
	owner := r.externalID("owner_external_id", true)
	taxType := r.enum("tax_type", true, calc.TaxVehicle, calc.TaxBuilding, calc.TaxLand)
	year, _ := r.integer("year", true, 1990, 2100)
	inst, _ := r.integer("installment", true, 1, 2)
	due := r.date("due_date", true)
	principal := r.amount("principal", true)
	if principal == 0 && r.get("principal") != "" && !hasFailed(r, "principal") {
		r.fail("principal", "must be greater than zero")
	}
	paid := r.amount("paid", false)
	if paid > principal && principal > 0 {
		r.fail("paid", "must not exceed principal")
	}
	object := r.externalID("object_external_id", false)
	code := r.get("budget_code")
	if code != "" && !budgetCodeRe.MatchString(code) {
		r.fail("budget_code", "must be a budget classification code like 16.02.02.01")
	}
	if due != nil && year > 0 && due.Year < year-1 {
		r.fail("due_date", "must not be before the tax year")
	}
	if len(r.errors) > 0 {
		return nil
	}
	b := &fiscal.ImportBalance{OwnerExternalID: owner, TaxType: taxType, Year: year, Installment: inst, DueDate: *due,
		Principal: principal, Paid: paid, ObjectExternalID: object, BudgetCode: code}
	if object != "" {
		b.ObjectKind = balanceObjectKinds[taxType]
	}
	// A balance is keyed by what it is the debt of: the owner, the tax, the
	// year, the instalment and the object.
	key := owner + "|" + taxType + "|" + strconv.Itoa(year) + "|" + strconv.Itoa(inst) + "|" + object
	return &fiscal.ImportRow{Line: r.line, ExternalID: key, Balance: b,
		Hash: hashOf(fiscal.ImportBalances, key, due.String(), strconv.FormatInt(int64(principal), 10), strconv.FormatInt(int64(paid), 10), code)}
}

func hasFailed(r *row, col string) bool {
	for _, e := range r.errors {
		if e.Field == col {
			return true
		}
	}
	return false
}

// decimalOf reads a decimal with a dot or a comma (no thousands
// separators), at most places decimals.
func decimalOf(v string, places int32) (decimal.Decimal, bool) {
	if strings.Contains(v, ",") {
		if strings.Contains(v, ".") || strings.Count(v, ",") > 1 {
			return decimal.Decimal{}, false
		}
		v = strings.Replace(v, ",", ".", 1)
	}
	if strings.ContainsAny(v, "eE_ ") {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(v)
	if err != nil || !d.Equal(d.Round(places)) {
		return decimal.Decimal{}, false
	}
	return d, true
}

// area reads an optional area in m² (dot or comma, at most two decimals);
// its range is the engine's check.
func (r *row) area(col string) *decimal.Decimal {
	v := r.get(col)
	if v == "" {
		return nil
	}
	d, ok := decimalOf(v, 2)
	if !ok {
		r.fail(col, "must be an area in m², e.g. 55.5 or 55,5 (at most two decimals)")
		return nil
	}
	return &d
}

// share reads an owner's share: a decimal fraction above 0 and at most 1,
// with a dot or a comma ("0.5", "0,3333"), or a percentage ("50%"), exact
// to parts per 10,000.
func (r *row) share(col string) fiscal.Share {
	v := r.get(col)
	if v == "" {
		r.fail(col, "is required: the owner's share, a decimal fraction above 0 and at most 1 (1 = sole owner)")
		return 0
	}
	// A workbook's percentage cell reads as "50%" (or "33.33%").
	pct, isPct := strings.CutSuffix(v, "%")
	places := int32(4)
	if isPct {
		v, places = strings.TrimSpace(pct), 2
	}
	d, ok := decimalOf(v, places)
	if !ok {
		r.fail(col, "must be a decimal fraction with at most four decimals, e.g. 0.5 or 0,3333 (or a percentage with at most two, 33.33%)")
		return 0
	}
	if isPct {
		d = d.Shift(-2)
	}
	p := d.Shift(4)
	if !p.IsPositive() || p.GreaterThan(decimal.NewFromInt(int64(fiscal.WholeShare))) {
		r.fail(col, "must be above 0 and at most 1")
		return 0
	}
	return fiscal.Share(p.IntPart())
}

// holding reads what buildings and lands rows share: the owner, the share,
// the address, the cadastral number and the ownership period.
func (r *row) holding() (owner string, h fiscal.Holding) {
	owner = r.externalID("owner_external_id", true)
	h.Share = r.share("share")
	h.Address = r.text("address", 3, 300)
	h.CadastralNumber = r.text("cadastral_number", 1, 40)
	if strings.ContainsAny(h.CadastralNumber, " \t") {
		r.fail("cadastral_number", "must not contain spaces (the land book's cadastral number)")
	}
	if a := r.date("acquired_on", true); a != nil {
		h.AcquiredOn = *a
		// Taxed from 1 January after the acquisition (art. 456, 466), as a
		// declaration enters it.
		h.TaxedFromYear = a.Year + 1
	}
	h.DisposedOn = r.date("disposed_on", false)
	if h.DisposedOn != nil && h.AcquiredOn.IsValid() && h.DisposedOn.Before(h.AcquiredOn) {
		r.fail("disposed_on", "must not be before acquired_on")
	}
	return owner, h
}

// objectErrors reports the engine's checks of an object on the file's
// columns.
func (r *row) objectErrors(year int, o calc.Object) {
	for _, fe := range calc.ValidateObject(year, o) {
		f := strings.TrimPrefix(fe.Field, "object.")
		if f == "parts" || strings.HasPrefix(f, "parts[") {
			continue // mixed use: refused on use below
		}
		r.fail(f, fe.Message)
	}
}

func holdingHash(kind, owner string, h *fiscal.Holding, o calc.Object) string {
	obj, _ := json.Marshal(o)
	disposed := ""
	if h.DisposedOn != nil {
		disposed = h.DisposedOn.String()
	}
	return hashOf(kind, owner, strconv.FormatInt(int64(h.Share), 10), h.Address, h.CadastralNumber, string(obj), h.AcquiredOn.String(), disposed)
}

func parseBuilding(r *row) *fiscal.ImportRow {
	ext := r.externalID("external_id", true)
	owner, h := r.holding()
	o := calc.Object{Kind: calc.TaxBuilding, Use: strings.ToLower(r.get("use")), ConstructionType: strings.ToUpper(r.get("construction_type")),
		BasementOrAttic: strings.ToLower(r.get("basement_or_attic")), Zone: strings.ToUpper(r.get("zone"))}
	if o.Use == "mixed" {
		r.fail("use", "a mixed-use building is taxed by its parts, which this file does not carry: import it as residential or non_residential by its main use, or declare it")
	}
	u := r.boolean("utilities")
	o.Utilities = &u
	o.BuiltAreaM2, o.UsableAreaM2 = r.area("built_area_m2"), r.area("usable_area_m2")
	o.YearBuilt, _ = r.integer("year_built", false, 1000, 2100)
	year := 2100
	if h.AcquiredOn.IsValid() {
		year = h.TaxedFromYear // built at the latest in the first year taxed
	}
	if o.Use != "mixed" {
		r.objectErrors(year, o)
	}
	if len(r.errors) > 0 {
		return nil
	}
	h.Object = o
	return &fiscal.ImportRow{Line: r.line, ExternalID: ext, Holding: &fiscal.ImportHolding{OwnerExternalID: owner, Kind: calc.TaxBuilding, Holding: h},
		Hash: holdingHash(fiscal.ImportBuildings, owner, &h, o)}
}

func parseLand(r *row) *fiscal.ImportRow {
	ext := r.externalID("external_id", true)
	owner, h := r.holding()
	o := calc.Object{Kind: calc.TaxLand, Location: strings.ToLower(r.get("location")), Zone: strings.ToUpper(r.get("zone")),
		UseCategory: strings.ToLower(r.get("use_category")), AreaM2: r.area("area_m2")}
	check := o
	if r.get("area_m2") == "" {
		r.fail("area_m2", "is required")
	}
	if check.AreaM2 == nil {
		one := decimal.NewFromInt(1) // the area is reported already: check the other fields
		check.AreaM2 = &one
	}
	r.objectErrors(2100, check)
	if len(r.errors) > 0 {
		return nil
	}
	h.Object = o
	return &fiscal.ImportRow{Line: r.line, ExternalID: ext, Holding: &fiscal.ImportHolding{OwnerExternalID: owner, Kind: calc.TaxLand, Holding: h},
		Hash: holdingHash(fiscal.ImportLands, owner, &h, o)}
}
