package fiscal

import (
	"context"
	"io"
	"time"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Import kinds (contract: "Taking over a municipality's existing data").
const (
	ImportTaxpayers = "taxpayers"
	ImportVehicles  = "vehicles"
	ImportBuildings = "buildings"
	ImportLands     = "lands"
	ImportBalances  = "balances"
)

// ImportError is one rejected row of an import: its line in the file (1 is
// the header), the column and the reason.
type ImportError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportResult is an import's report (contract: POST /api/v1/admin/imports).
// Errors lists at most MaxReportedErrors rows; Rejected counts them all and
// the CSV report (ImportService.ImportErrors) has every one.
type ImportResult struct {
	ID        int64         `json:"id"`
	Kind      string        `json:"kind"`
	DryRun    bool          `json:"dry_run"`
	Rows      int64         `json:"rows"`
	Imported  int64         `json:"imported"`
	Updated   int64         `json:"updated"`
	Unchanged int64         `json:"unchanged"`
	Rejected  int64         `json:"rejected"`
	Errors    []ImportError `json:"errors"`
}

// MaxReportedErrors bounds the errors an ImportResult carries.
const MaxReportedErrors = 1000

// ImportFile is an uploaded file to import.
type ImportFile struct {
	Name string
	// Data reads the file; it is read twice (the hash, then the rows), so it
	// must be an io.ReaderAt (an *os.File, a multipart file).
	Data io.ReaderAt
	Size int64
}

// ImportService imports a municipality's existing data (admin only).
type ImportService interface {
	// Import reads, checks and (unless dryRun) writes one file of a kind.
	// A file that cannot be read as a whole (wrong header, not UTF-8, too
	// large, a formula) is EINVALID or ETOOLARGE and writes nothing; a bad
	// row is reported and skipped.
	Import(ctx context.Context, kind string, f ImportFile, dryRun bool) (*ImportResult, error)
	// ImportReport returns an import's report (its first
	// MaxReportedErrors errors).
	ImportReport(ctx context.Context, id int64) (*ImportResult, error)
	// ImportErrors writes an import's rejected rows as CSV (line, field,
	// message).
	ImportErrors(ctx context.Context, id int64, w io.Writer) error
	// Imports lists the municipality's imports, the most recent first (at
	// most limit).
	Imports(ctx context.Context, limit int) ([]ImportSummary, error)
	// ImportSummary returns one import of the municipality (its file, when
	// it ran, its counts).
	ImportSummary(ctx context.Context, id int64) (*ImportSummary, error)
}

// ImportSummary is an import in the list of past imports: its file (the
// name as uploaded, cleaned, and its SHA-256), when it started and
// finished (nil: running, or cut short and not resumed yet), and its
// counts.
type ImportSummary struct {
	ID         int64      `json:"id" db:"id"`
	Kind       string     `json:"kind" db:"kind"`
	FileName   string     `json:"file_name" db:"file_name"`
	FileSHA256 string     `json:"file_sha256" db:"file_sha256"`
	DryRun     bool       `json:"dry_run" db:"dry_run"`
	Rows       int64      `json:"rows" db:"rows_total"`
	Imported   int64      `json:"imported" db:"imported"`
	Updated    int64      `json:"updated" db:"updated"`
	Unchanged  int64      `json:"unchanged" db:"unchanged"`
	Rejected   int64      `json:"rejected" db:"rejected"`
	StartedAt  time.Time  `json:"started_at" db:"started_at"`
	FinishedAt *time.Time `json:"finished_at" db:"finished_at"`
}

// ImportRun is an import's row in the database: what is committed so far.
type ImportRun struct {
	ID             int64  `db:"id"`
	MunicipalityID int64  `db:"municipality_id"`
	Kind           string `db:"kind"`
	FileName       string `db:"file_name"`
	FileSHA256     string `db:"file_sha256"`
	DryRun         bool   `db:"dry_run"`
	// CheckpointLine is the last line of the file whose batch committed (1:
	// only the header).
	CheckpointLine int64 `db:"checkpoint_line"`
	Batches        int64 `db:"batches"`
	Rows           int64 `db:"rows_total"`
	Imported       int64 `db:"imported"`
	Updated        int64 `db:"updated"`
	Unchanged      int64 `db:"unchanged"`
	Rejected       int64 `db:"rejected"`
	// FileRows is the file's data lines when known ahead (CSV), for the
	// progress in /metrics; 0: not known (XLSX).
	FileRows int64 `db:"file_rows"`
	Resumed  bool  `db:"-"`
}

// ImportTaxpayer is a checked taxpayers row.
type ImportTaxpayer struct {
	Input TaxpayerInput
}

// ImportVehicle is a checked vehicles row; OwnerExternalID names a taxpayer
// imported before (or in the same run).
type ImportVehicle struct {
	OwnerExternalID string
	Vehicle         Vehicle
}

// ImportHolding is a checked buildings or lands row: one owner's holding
// of an object (Kind calc.TaxBuilding or calc.TaxLand) with its share;
// OwnerExternalID names a taxpayer imported before.
type ImportHolding struct {
	OwnerExternalID string
	Kind            string
	Holding         Holding
}

// ImportBalance is a checked balances row: a debt carried over from the old
// system. Outstanding (principal − paid) becomes the debt.
type ImportBalance struct {
	OwnerExternalID  string
	TaxType          string
	Year             int
	Installment      int
	DueDate          civil.Date
	Principal        money.Bani
	Paid             money.Bani
	ObjectExternalID string
	ObjectKind       string // the import kind the object is looked up in ("vehicles", "buildings", "lands")
	BudgetCode       string // "" = by the tax type and the owner's kind (§7)
}

// ImportRow is one checked row of a file, keyed by its external id, with
// the hash of its normalised content (an unchanged row has the same hash).
type ImportRow struct {
	Line       int
	ExternalID string
	Hash       string
	Taxpayer   *ImportTaxpayer
	Vehicle    *ImportVehicle
	Holding    *ImportHolding
	Balance    *ImportBalance
}

// ImportBatch is a run of consecutive lines written in one transaction with
// the checkpoint: the good rows and the errors of the bad ones.
type ImportBatch struct {
	ToLine int64 // the checkpoint after this batch
	Rows   []ImportRow
	Errors []ImportError
	// Dry is a dry run's memory of the holdings its earlier batches
	// accepted (nil otherwise): kept by the importer across the batches,
	// read and extended by the store.
	Dry *DryHoldings
}

// DryHoldings is what a dry run's earlier batches accepted of buildings or
// lands, which it did not write: a later batch checks the shares of a
// cadastral number against them as the real run, which wrote them, would.
type DryHoldings struct {
	Parts map[string]map[int64]int64 // cadastral number → holding → share parts (a new holding: a negative number)
	Where map[int64]string           // holding → its cadastral number
	Next  int64                      // the next negative number for a new holding (0: -1)
}

// ImportBatchResult is what a batch did; Errors are the rows the store
// refused (an owner not found, a VIN registered to another owner).
type ImportBatchResult struct {
	Imported, Updated, Unchanged int64
	Errors                       []ImportError
}

// ImportStore is what the importer needs of the database.
type ImportStore interface {
	// StartImport opens a run of kind for a file of fileRows data lines (0:
	// not known), or resumes the unfinished one of the same kind and file
	// hash (clearing its failure).
	StartImport(ctx context.Context, municipalityID int64, kind, fileName, sha string, dryRun bool, fileRows int64) (*ImportRun, error)
	// WriteImportBatch upserts a batch by external id (a dry run only
	// classifies), records its errors, moves the checkpoint and counts in
	// one transaction. pending names rows checked earlier in the same dry
	// run of several files but not written (an owner, a vehicle with its
	// owner's external id).
	WriteImportBatch(ctx context.Context, run *ImportRun, b *ImportBatch, pending func(kind, externalID string) (owner string, ok bool)) (ImportBatchResult, error)
	// FinishImport marks the run finished and returns its counts.
	FinishImport(ctx context.Context, run *ImportRun) (*ImportRun, error)
	// FailImport records that the run stopped on an error (reason), for
	// /metrics; running the same file again resumes it and clears the mark.
	FailImport(ctx context.Context, run *ImportRun, reason string) error
	// ImportReport returns a finished or running import with its first
	// errors (at most limit), for the actor's municipality.
	ImportReport(ctx context.Context, id int64, limit int) (*ImportResult, error)
	// EachImportError calls fn for every rejected row of an import in line order.
	EachImportError(ctx context.Context, id int64, fn func(ImportError) error) error
	// ImportSummaries lists the actor's municipality's imports, the most
	// recent first: the one of id when id > 0, else at most limit.
	ImportSummaries(ctx context.Context, id int64, limit int) ([]ImportSummary, error)
}
