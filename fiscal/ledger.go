package fiscal

import (
	"context"

	"fiscald/calc"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Vehicle is an entry of the vehicle register: a taxpayer's vehicle with the
// data the engine taxes it by (Object) and the years it is taxed.
type Vehicle struct {
	ID             int64       `json:"id" db:"id"`
	MunicipalityID int64       `json:"-" db:"municipality_id"`
	TaxpayerID     int64       `json:"taxpayer_id" db:"taxpayer_id"`
	VIN            string      `json:"vin" db:"vin"`
	Plate          string      `json:"plate" db:"plate"`
	Category       string      `json:"category" db:"category"`
	EngineCC       int         `json:"engine_cc" db:"engine_cc"`
	EmissionClass  string      `json:"emission_class" db:"emission_class"`
	Propulsion     string      `json:"propulsion" db:"propulsion"`
	AcquiredOn     civil.Date  `json:"acquired_on" db:"acquired_on"`
	DeregisteredOn *civil.Date `json:"deregistered_on" db:"deregistered_on"`
	// TaxedFromYear is the first year the owner owes (art. 471: from
	// 1 January after the acquisition).
	TaxedFromYear int `json:"taxed_from_year" db:"taxed_from_year"`
	// Object is what the engine taxes (stored as JSON in attributes).
	Object  calc.Object `json:"object" db:"-"`
	Version int64       `json:"version" db:"version"`
}

// VehicleObject builds the engine's object from the vehicle's columns when
// no fuller object was stored.
func (v *Vehicle) VehicleObject() calc.Object {
	if v.Object.Kind != "" {
		return v.Object
	}
	return calc.Object{Kind: "vehicle", Category: v.Category, EngineCC: v.EngineCC, EmissionClass: v.EmissionClass, Propulsion: v.Propulsion}
}

// Debt kinds.
const (
	DebtPrincipal  = "principal"
	DebtFine       = "fine"
	DebtLateFee    = "late_fee"
	DebtAdjustment = "adjustment"
)

// NewAssessment is an assessed object's tax for a year with the debts
// (instalments) it creates.
type NewAssessment struct {
	TaxpayerID int64
	TaxType    string // calc.TaxVehicle, TaxBuilding, TaxLand
	ObjectKind string // "vehicle", "building", "land"
	ObjectID   int64
	Year       int
	Assessment calc.Assessment
	// Installments are the debts created; their sum is Assessment.Annual.
	Installments []calc.Installment
	// Bonus is the early-payment bonus available on this assessment.
	Bonus  money.Bani
	Source string // "case", "annual", "recompute"
}

// Debt is one line of a taxpayer's statement (contract: statement.debts).
type Debt struct {
	ID          int64      `json:"id" db:"id"`
	TaxpayerID  int64      `json:"-" db:"taxpayer_id"`
	Kind        string     `json:"kind" db:"kind"`
	TaxType     string     `json:"tax_type" db:"tax_type"`
	Year        int        `json:"year" db:"year"`
	ObjectID    *int64     `json:"object_id" db:"object_id"`
	Installment int        `json:"installment" db:"installment"`
	DueDate     civil.Date `json:"due_date" db:"due_date"`
	Principal   money.Bani `json:"principal" db:"amount_bani"`
	Paid        money.Bani `json:"paid" db:"paid_bani"`
	Outstanding money.Bani `json:"outstanding" db:"-"`
	LateFees    money.Bani `json:"late_fees" db:"-"`
	BudgetCode  string     `json:"budget_code" db:"budget_code"`
}

// VehicleService reads the vehicle register.
type VehicleService interface {
	// TaxpayerVehicles lists a taxpayer's vehicles, current and past;
	// ENOTFOUND when the taxpayer is not visible to the actor.
	TaxpayerVehicles(ctx context.Context, taxpayerID int64) ([]*Vehicle, error)
}
