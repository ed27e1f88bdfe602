package fiscal

import (
	"context"
	"time"

	"fiscald/internal/money"
)

// RecomputeRun is one recomputation of a municipality's tax year under the
// parameters in force now (after a retroactive law): its progress, counts of
// objects whose annual tax went up, down or stayed, and the money by budget
// code. CursorTaxpayerID is the last taxpayer whose assessments are done.
type RecomputeRun struct {
	ID               int64              `json:"id" db:"id"`
	MunicipalityID   int64              `json:"-" db:"municipality_id"`
	Year             int                `json:"year" db:"year"`
	Status           string             `json:"status" db:"-"`
	CursorTaxpayerID int64              `json:"cursor_taxpayer_id" db:"cursor_taxpayer_id"`
	Batches          int64              `json:"batches" db:"batches"`
	Objects          int64              `json:"objects" db:"objects"`
	Up               int64              `json:"up" db:"up"`
	Down             int64              `json:"down" db:"down"`
	Unchanged        int64              `json:"unchanged" db:"unchanged"`
	Failed           int64              `json:"failed" db:"failed"`
	Error            string             `json:"error,omitempty" db:"error"`
	StartedAt        time.Time          `json:"started_at" db:"started_at"`
	UpdatedAt        time.Time          `json:"updated_at" db:"updated_at"`
	FinishedAt       *time.Time         `json:"finished_at" db:"finished_at"`
	Totals           []RecomputeTotal   `json:"totals" db:"-"`
	Total            RecomputeTotal     `json:"total" db:"-"`
	Progress         *RecomputeProgress `json:"progress,omitempty" db:"-"`
}

// Recompute run statuses.
const (
	RecomputeRunning  = "running"
	RecomputeFinished = "finished"
	RecomputeFailed   = "failed" // stopped with an error; POST again to resume
)

// RecomputeTotal is a run's money for one budget code: Extra is the new
// adjustment debt, Reduced the unpaid debt withdrawn, Credit the paid excess
// turned into the taxpayers' credit.
type RecomputeTotal struct {
	BudgetCode string     `json:"budget_code" db:"budget_code"`
	Extra      money.Bani `json:"extra_debt" db:"extra_bani"`
	Reduced    money.Bani `json:"reduced_debt" db:"reduced_bani"`
	Credit     money.Bani `json:"credit" db:"credit_bani"`
}

// RecomputeProgress estimates how far a run is: assessments of the year of
// taxpayers up to the cursor, of all.
type RecomputeProgress struct {
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

// RecomputeBatchResult is what one batch changed.
type RecomputeBatchResult struct {
	Objects, Up, Down, Unchanged, Failed int
	// Done is true when no assessment of the year is left after the batch.
	Done bool
}

// RecomputeInput starts (or resumes) the recomputation of a year.
type RecomputeInput struct {
	Year int `json:"year" validate:"required,min=2000,max=2100"`
}

// RecomputeStore is what a recomputation needs from storage (internal/store
// implements it; package assess drives it).
type RecomputeStore interface {
	// StartRecomputeRun returns the year's unfinished run (resuming it) or a
	// new one.
	StartRecomputeRun(ctx context.Context, municipalityID int64, year int) (*RecomputeRun, error)
	// RecomputeBatch recomputes, in one transaction, the current assessments
	// of the year of the next taxpayers after the run's cursor (about n
	// objects, never splitting a taxpayer) with the engine in force now, and
	// records the differences (new revisions, adjustment debts, reduced
	// instalments, credit) with the cursor move and one audit entry.
	// ECONFLICT when the cursor moved (another process runs it).
	RecomputeBatch(ctx context.Context, municipalityID, runID int64, n int) (RecomputeBatchResult, error)
	// FinishRecomputeRun marks the run finished, or records the error that
	// stopped it (the run stays open for a resume).
	FinishRecomputeRun(ctx context.Context, municipalityID, runID int64, runErr error) error
	// RecomputeRun reads a run with its totals and progress.
	RecomputeRun(ctx context.Context, municipalityID, runID int64) (*RecomputeRun, error)
}

// RecomputeService starts recomputations and reports on them (admin).
type RecomputeService interface {
	// StartRecompute starts (or resumes) the recomputation of a year in the
	// background and returns the run; ECONFLICT when this process runs it
	// already (the run is returned with the error's message naming it).
	StartRecompute(ctx context.Context, in *RecomputeInput) (*RecomputeRun, error)
	// RecomputeRun returns a run of the actor's municipality; ENOTFOUND.
	RecomputeRun(ctx context.Context, id int64) (*RecomputeRun, error)
}
