package fiscal

import (
	"context"
	"time"

	"fiscald/calc"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Phases of the annual assessment run: one per kind of taxed object, run in
// this order.
const (
	PhaseVehicles  = "vehicle"
	PhaseBuildings = "building"
	PhaseLands     = "land"
)

// AnnualRun is the progress of one phase of the annual assessment of a
// municipality for a year (table assessment_runs). CursorTaxpayerID is the
// last taxpayer whose objects are all assessed in the current pass; counters
// add up every pass.
type AnnualRun struct {
	ID               int64      `db:"id"`
	MunicipalityID   int64      `db:"municipality_id"`
	Year             int        `db:"year"`
	Phase            string     `db:"phase"`
	CursorTaxpayerID int64      `db:"cursor_taxpayer_id"`
	Batches          int64      `db:"batches"`
	Assessments      int64      `db:"assessments"`
	Debts            int64      `db:"debts"`
	StartedAt        time.Time  `db:"started_at"`
	UpdatedAt        time.Time  `db:"updated_at"`
	FinishedAt       *time.Time `db:"finished_at"`
	// ObjectsTotal is the phase's objects in the register when the current
	// pass started; ObjectsDone those of taxpayers up to the cursor (the
	// progress shown in /metrics).
	ObjectsTotal int64 `db:"objects_total"`
	ObjectsDone  int64 `db:"objects_done"`
	// FailedAt is set when the run stopped on an error (Failure says which)
	// and cleared when it starts again or commits a batch.
	FailedAt *time.Time `db:"failed_at"`
	Failure  string     `db:"failure"`
}

// AnnualObject is a taxed object as the annual run reads it: the engine's
// object (with OwnerKind set from the taxpayer) and the ownership period.
type AnnualObject struct {
	ID         int64
	TaxpayerID int64
	Object     calc.Object
	AcquiredOn civil.Date
	// EndedOn is the deregistration (vehicles) or disposal (buildings) date.
	EndedOn *civil.Date
	// Share is the owner's part of a building or land in parts per 10,000
	// (calc.SharePartsWhole; vehicles: whole): the owner owes the tax on it
	// (calc.ShareOf).
	Share int64
}

// AnnualAssessment is one assessment the run writes, with its lines already
// encoded as JSON (encoding is done by the compute workers, not the writer).
type AnnualAssessment struct {
	NewAssessment
	LinesJSON []byte
}

// AnnualBatch is what one transaction of the run writes: the assessments of
// every taxed object of the taxpayers in (FromTaxpayer, ToTaxpayer]. The
// batch moves the run's cursor from FromTaxpayer to ToTaxpayer.
type AnnualBatch struct {
	Year         int
	Phase        string
	FromTaxpayer int64
	ToTaxpayer   int64
	Items        []AnnualAssessment
	// ObjectsDone is the phase's objects read up to ToTaxpayer in this pass
	// (those assessed, skipped, not taxed or refused), recorded with the
	// cursor for the progress in /metrics.
	ObjectsDone int64
}

// AnnualBatchResult counts what a batch added (objects already assessed are
// skipped, so a rerun adds zero).
type AnnualBatchResult struct {
	Assessments int
	Debts       int
	Skipped     int
	Annual      money.Bani
}

// AnnualSummaryRow is one line of the run's summary: a tax type and budget
// code with the number of assessments, their annual total and their debts.
type AnnualSummaryRow struct {
	TaxType     string     `db:"tax_type"`
	BudgetCode  string     `db:"budget_code"`
	Assessments int64      `db:"assessments"`
	Annual      money.Bani `db:"annual_bani"`
	Debts       int64      `db:"debts"`
	DebtTotal   money.Bani `db:"debt_bani"`
}

// AnnualStore is what the annual assessment run needs from storage. The
// store implements it; package assess drives it.
type AnnualStore interface {
	// TaxEngine is the engine with the municipality's parameters.
	TaxEngine(ctx context.Context, municipalityID int64) (*calc.Engine, error)
	// StartAnnualRun returns the run of a phase, creating it; a finished run
	// starts a new pass from the first taxpayer. It counts the phase's
	// objects (ObjectsTotal, ObjectsDone) and clears a failure.
	StartAnnualRun(ctx context.Context, municipalityID int64, year int, phase string) (*AnnualRun, error)
	// CountAnnualObjects counts the objects of a phase, all and those of
	// taxpayers up to the cursor (for the progress estimate).
	CountAnnualObjects(ctx context.Context, municipalityID int64, phase string, cursor int64) (total, done int64, err error)
	// NextTaxpayerBound returns the taxpayer id at which a batch of about n
	// objects after taxpayer `after` ends; last is true when the batch takes
	// every remaining object.
	NextTaxpayerBound(ctx context.Context, municipalityID int64, phase string, after int64, n int) (upTo int64, last bool, err error)
	// AnnualObjects reads the objects of taxpayers in (after, upTo], ordered
	// by taxpayer then object id, with a building's data as they were in
	// year.
	AnnualObjects(ctx context.Context, municipalityID int64, phase string, year int, after, upTo int64) ([]AnnualObject, error)
	// WriteAnnualBatch writes a batch in one transaction with the cursor move
	// and one audit entry; ECONFLICT when the run's cursor is not the batch's
	// start (another run is writing).
	WriteAnnualBatch(ctx context.Context, municipalityID int64, b *AnnualBatch) (AnnualBatchResult, error)
	// FinishAnnualRun marks the current pass done.
	FinishAnnualRun(ctx context.Context, municipalityID int64, year int, phase string) error
	// FailAnnualRun records that the run of a phase stopped on an error
	// (reason), for /metrics; a rerun resumes it and clears the mark.
	FailAnnualRun(ctx context.Context, municipalityID int64, year int, phase, reason string) error
	// AnnualSummary totals the year's assessments and their principal debts by
	// tax type and budget code.
	AnnualSummary(ctx context.Context, municipalityID int64, year int) ([]AnnualSummaryRow, error)
}
