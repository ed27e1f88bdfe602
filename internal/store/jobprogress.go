package store

import (
	"context"
	"time"

	"fiscald/fiscal"
)

// JobProgress reads the progress of the long jobs for /metrics: every phase
// of the annual run (assessment_runs, one row per municipality, year and
// phase) and the imports summed by kind, state and dry run. The jobs record
// it with the statements they run anyway (a phase's start, each batch's
// cursor or checkpoint, the finish, a failure), so any instance shows the
// jobs of every process, the CLI's included.
//
// One statement per scrape, reading only these two tables, which hold a
// row per phase and year and a row per imported file: read whole, they stay
// small (no debts, assessments or register tables are read):
// BenchmarkJobProgress, 90 phase rows and 2,000 imported files (more than a
// department's takeover and years of dry runs), reads them in 1.2-1.3 ms on
// PostgreSQL and 2.1-2.7 ms on SQLite on the 2-core machine (load 3; up to
// 6 and 9 ms beside other benchmarks), every scrape.
// It is not one of the prepared statements (storetest's check for table
// scans looks at those): reading every row is its purpose.
func (db *DB) JobProgress(ctx context.Context) (*fiscal.JobProgress, error) {
	epoch := func(col string) string {
		if db.dialect == "postgres" {
			return `CAST(EXTRACT(EPOCH FROM ` + col + `) AS BIGINT)`
		}
		return `CAST(strftime('%s', ` + col + `) AS INTEGER)`
	}
	state := func(finished, failed string) string {
		return `CASE WHEN ` + finished + ` THEN '` + fiscal.JobFinished + `' WHEN ` + failed + ` THEN '` + fiscal.JobFailed + `' ELSE '` + fiscal.JobRunning + `' END`
	}
	// The imports are grouped on their columns as they are, and only each
	// group's values are converted (a CASE or strftime per row costs SQLite
	// several times the grouping).
	q := `SELECT 'annual' AS job, m.slug AS municipality, r.year AS year, r.phase AS name,
			` + state("r.finished_at IS NOT NULL", "r.failed_at IS NOT NULL") + ` AS state, 0 AS dry, 1 AS runs,
			r.objects_done AS done, r.objects_total AS total, ` + epoch("r.updated_at") + ` AS at
		FROM assessment_runs r JOIN municipalities m ON m.id = r.municipality_id
		UNION ALL
		SELECT 'import', '', 0, g.kind, ` + state("g.fin", "g.fail") + `, CASE WHEN g.dry THEN 1 ELSE 0 END, g.runs,
			CAST(g.done AS BIGINT), CAST(g.total AS BIGINT), ` + epoch("g.at") + `
		FROM (SELECT kind, finished_at IS NOT NULL AS fin, failed_at IS NOT NULL AS fail, dry_run AS dry, COUNT(*) AS runs,
			SUM(rows_total) AS done, SUM(file_rows) AS total, MAX(updated_at) AS at
			FROM imports GROUP BY kind, finished_at IS NOT NULL, failed_at IS NOT NULL, dry_run) g
		ORDER BY 1, 2, 3, 4, 5, 6`
	var rows []struct {
		Job          string `db:"job"`
		Municipality string `db:"municipality"`
		Year         int    `db:"year"`
		Name         string `db:"name"`
		State        string `db:"state"`
		Dry          int    `db:"dry"`
		Runs         int64  `db:"runs"`
		Done         int64  `db:"done"`
		Total        int64  `db:"total"`
		At           int64  `db:"at"`
	}
	if err := db.db.SelectContext(ctx, &rows, q); err != nil {
		return nil, translate(err, "job progress")
	}
	out := &fiscal.JobProgress{}
	for _, r := range rows {
		at := time.Unix(r.At, 0).UTC()
		if r.Job == "annual" {
			out.Annual = append(out.Annual, fiscal.AnnualRunProgress{Municipality: r.Municipality, Year: r.Year, Phase: r.Name, State: r.State,
				ObjectsDone: r.Done, ObjectsTotal: r.Total, UpdatedAt: at})
			continue
		}
		out.Imports = append(out.Imports, fiscal.ImportProgress{Kind: r.Name, State: r.State, DryRun: r.Dry == 1, Runs: r.Runs,
			RowsDone: r.Done, FileRows: r.Total, UpdatedAt: at})
	}
	return out, nil
}
