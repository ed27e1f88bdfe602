package fiscal

import "time"

// States of a long job (the annual run's phases, imports) in /metrics.
const (
	JobRunning  = "running"
	JobFinished = "finished"
	// JobFailed: the job stopped on an error and waits for a rerun, which
	// resumes it. A process killed outright cannot say so: its job stays
	// running with its last progress time getting old.
	JobFailed = "failed"
)

// JobProgress is the progress of the long jobs as the database holds it,
// whichever process runs them (read for /metrics by store.DB.JobProgress).
type JobProgress struct {
	Annual  []AnnualRunProgress
	Imports []ImportProgress
}

// AnnualRunProgress is one phase of the annual run of a municipality and
// year (a row of assessment_runs).
type AnnualRunProgress struct {
	Municipality string
	Year         int
	Phase        string
	State        string // JobRunning, JobFinished or JobFailed
	// ObjectsDone of ObjectsTotal: the current pass (a finished phase has
	// done all of them).
	ObjectsDone  int64
	ObjectsTotal int64
	// UpdatedAt is the last progress: the phase's start, last batch, finish
	// or failure.
	UpdatedAt time.Time
}

// ImportProgress sums the import runs of one kind, state and dry-run flag.
type ImportProgress struct {
	Kind   string
	State  string // JobRunning, JobFinished or JobFailed
	DryRun bool
	Runs   int64
	// RowsDone are the lines checked so far, FileRows the files' data lines
	// (0 for a file whose lines are not known ahead, XLSX).
	RowsDone int64
	FileRows int64
	// UpdatedAt is the latest progress of these runs.
	UpdatedAt time.Time
}
