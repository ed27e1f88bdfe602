package fiscal

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/internal/civil"
)

// Buildings and land in the fiscal record (contract: "Buildings and land in
// the fiscal record"). A Building or Land is one owner's holding of an
// object: the object's data and the owner's Share. Co-owners are the other
// current holdings of the same cadastral number.

// Share is an owner's part of an object in parts per 10,000
// (calc.SharePartsWhole): exact, never a float. JSON: a decimal string with
// four decimals ("0.6000").
type Share int64

// WholeShare is sole ownership.
const WholeShare = Share(calc.SharePartsWhole)

// String is the share as a decimal fraction with four decimals.
func (s Share) String() string { return decimal.New(int64(s), -4).StringFixed(4) }

// MarshalJSON writes the share as a string.
func (s Share) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// UnmarshalJSON reads "0.6" or 0.6 with at most four decimals; a value
// that is not one is a type error naming the field. The range (above 0, at
// most 1) is the form's check, so that it names the field precisely.
func (s *Share) UnmarshalJSON(b []byte) error {
	d, err := decimal.NewFromString(strings.Trim(string(b), `"`))
	p := d.Shift(4)
	if err != nil || !p.Equal(p.Truncate(0)) || p.Abs().GreaterThan(decimal.New(1_000_000, 0)) {
		return &json.UnmarshalTypeError{Value: "share " + string(b), Type: reflect.TypeOf(Share(0))}
	}
	*s = Share(p.IntPart())
	return nil
}

// Percent is the share as a percentage with two decimals ("60.00").
func (s Share) Percent() string { return decimal.New(int64(s), -2).StringFixed(2) }

// CoOwner is another current owner of the same object.
type CoOwner struct {
	TaxpayerID int64  `json:"taxpayer_id" db:"taxpayer_id"`
	Name       string `json:"name" db:"name"`
	Share      Share  `json:"share" db:"share_parts"`
}

// Holding is what buildings and land have in common: the owner, the
// object's identity and the ownership period.
type Holding struct {
	ID              int64       `json:"id" db:"id"`
	MunicipalityID  int64       `json:"-" db:"municipality_id"`
	TaxpayerID      int64       `json:"-" db:"taxpayer_id"`
	Address         string      `json:"address" db:"address"`
	CadastralNumber string      `json:"cadastral_number" db:"cadastral_number"`
	Share           Share       `json:"share" db:"share_parts"`
	AcquiredOn      civil.Date  `json:"acquired_on" db:"acquired_on"`
	DisposedOn      *civil.Date `json:"disposed_on" db:"disposed_on"`
	// TaxedFromYear is the first year the owner owes (1 January after the
	// acquisition, art. 456, 466).
	TaxedFromYear int       `json:"taxed_from_year" db:"taxed_from_year"`
	CoOwners      []CoOwner `json:"co_owners" db:"-"`
	// Object is what the engine taxes (stored as JSON in attributes).
	Object  calc.Object `json:"-" db:"-"`
	Version int64       `json:"-" db:"version"`
}

// Building is an owner's holding of a building, with the contract's fields.
type Building struct {
	Holding
	Use              string           `json:"use"`
	ConstructionType string           `json:"construction_type"`
	BasementOrAttic  string           `json:"basement_or_attic"`
	Utilities        bool             `json:"utilities"`
	BuiltAreaM2      *decimal.Decimal `json:"built_area_m2"`
	UsableAreaM2     *decimal.Decimal `json:"usable_area_m2"`
	Zone             string           `json:"zone"`
	YearBuilt        int              `json:"year_built"`
	// TaxableValue and ValuationDate: companies' buildings (art. 460).
	TaxableValue  *decimal.Decimal    `json:"taxable_value,omitempty"`
	ValuationDate *civil.Date         `json:"valuation_date,omitempty" db:"valuation_date"`
	Parts         []calc.BuildingPart `json:"parts,omitempty"`
}

// Land is an owner's holding of a plot, with the contract's fields.
type Land struct {
	Holding
	Location    string           `json:"location"`
	Zone        string           `json:"zone"`
	UseCategory string           `json:"use_category"`
	AreaM2      *decimal.Decimal `json:"area_m2"`
}

// FillFromObject copies the engine's object into the contract's fields.
func (b *Building) FillFromObject() {
	o := b.Object
	b.Use, b.ConstructionType, b.BasementOrAttic, b.Zone, b.YearBuilt = o.Use, o.ConstructionType, o.BasementOrAttic, o.Zone, o.YearBuilt
	b.Utilities = o.Utilities != nil && *o.Utilities
	b.BuiltAreaM2, b.UsableAreaM2, b.TaxableValue, b.Parts = o.BuiltAreaM2, o.UsableAreaM2, o.TaxableValue, o.Parts
}

// FillFromObject copies the engine's object into the contract's fields.
func (l *Land) FillFromObject() {
	o := l.Object
	l.Location, l.Zone, l.UseCategory, l.AreaM2 = o.Location, o.Zone, o.UseCategory, o.AreaM2
}

// FirstTaxedYear of a holding: stored, or the year after the acquisition.
func (h *Holding) FirstTaxedYear() int {
	if h.TaxedFromYear > 0 {
		return h.TaxedFromYear
	}
	return h.AcquiredOn.Year + 1
}

// PropertyService reads the buildings and land of the fiscal record.
type PropertyService interface {
	// TaxpayerBuildings lists a taxpayer's buildings, current first, with
	// their co-owners; ENOTFOUND when the taxpayer is not visible to the
	// actor (staff of the municipality, or the taxpayer themself).
	TaxpayerBuildings(ctx context.Context, taxpayerID int64) ([]*Building, error)
	// TaxpayerLands lists a taxpayer's land, as TaxpayerBuildings.
	TaxpayerLands(ctx context.Context, taxpayerID int64) ([]*Land, error)
	PropertyCorrections
}

// BuildingCorrection is the staff's correction of a building's data (not of
// its owners or shares, which declarations change): the object's fields as
// in the record, the version read and the reason, kept in the audit log.
type BuildingCorrection struct {
	Version          int64               `json:"version" validate:"required,gt=0"`
	Reason           string              `json:"reason" validate:"required,max=500,nobidi"`
	Address          string              `json:"address" validate:"required,max=300"`
	Use              string              `json:"use" validate:"required,oneof=residential non_residential mixed"`
	ConstructionType string              `json:"construction_type,omitempty" validate:"omitempty,oneof=A B C D"`
	BasementOrAttic  string              `json:"basement_or_attic,omitempty" validate:"omitempty,oneof=dwelling other"`
	Utilities        *bool               `json:"utilities,omitempty"`
	BuiltAreaM2      *decimal.Decimal    `json:"built_area_m2,omitempty"`
	UsableAreaM2     *decimal.Decimal    `json:"usable_area_m2,omitempty"`
	Zone             string              `json:"zone,omitempty" validate:"omitempty,oneof=A B C D"`
	YearBuilt        int                 `json:"year_built,omitempty" validate:"gte=0,lte=2100"`
	TaxableValue     *decimal.Decimal    `json:"taxable_value,omitempty"`
	ValuationDate    *civil.Date         `json:"valuation_date,omitempty"`
	Parts            []calc.BuildingPart `json:"parts,omitempty" validate:"max=20,dive"`
}

// Object is the engine's object the correction describes.
func (b *BuildingCorrection) Object() calc.Object {
	return calc.Object{Kind: calc.TaxBuilding, Use: b.Use, ConstructionType: b.ConstructionType, BasementOrAttic: b.BasementOrAttic,
		Utilities: b.Utilities, BuiltAreaM2: b.BuiltAreaM2, UsableAreaM2: b.UsableAreaM2, Zone: b.Zone, YearBuilt: b.YearBuilt,
		TaxableValue: b.TaxableValue, Parts: b.Parts}
}

// LandCorrection is the staff's correction of a plot's data.
type LandCorrection struct {
	Version     int64            `json:"version" validate:"required,gt=0"`
	Reason      string           `json:"reason" validate:"required,max=500,nobidi"`
	Address     string           `json:"address" validate:"required,max=300"`
	Location    string           `json:"location" validate:"required,oneof=intravilan extravilan"`
	Zone        string           `json:"zone" validate:"required,oneof=A B C D"`
	UseCategory string           `json:"use_category" validate:"required"`
	AreaM2      *decimal.Decimal `json:"area_m2" validate:"required"`
}

// Object is the engine's object the correction describes.
func (l *LandCorrection) Object() calc.Object {
	return calc.Object{Kind: calc.TaxLand, Location: l.Location, Zone: l.Zone, UseCategory: l.UseCategory, AreaM2: l.AreaM2}
}

// PropertyCorrections are the staff's corrections of the record (officer,
// admin): the object's data of every current holding of its cadastral
// number (the co-owners' rows alike), each row's version + 1, one audit
// entry with the data before and after. The change is taxed from the next
// assessment or recomputation. ECONFLICT when the version moved on.
type PropertyCorrections interface {
	CorrectBuilding(ctx context.Context, id int64, c *BuildingCorrection) (*Building, error)
	CorrectLand(ctx context.Context, id int64, c *LandCorrection) (*Land, error)
}
