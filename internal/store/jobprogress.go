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
// small (no debts, assessments or register tables are read). It is not one
// of the prepared statements (storetest's check for table scans looks at
// those): reading every row is its purpose.
func (db *DB) JobProgress(ctx context.Context) (*fiscal.JobProgress, error) {
	epoch := func(col string) string {
		if db.dialect == "postgres" {
			return `CAST(EXTRACT(EPOCH FROM ` + col + `) AS BIGINT)`
		}
		return `CAST(strftime('%s', ` + col + `) AS INTEGER)`
	}
	state := func(t string) string {
		return `CASE WHEN ` + t + `.finished_at IS NOT NULL THEN '` + fiscal.JobFinished + `' WHEN ` + t + `.failed_at IS NOT NULL THEN '` +
			fiscal.JobFailed + `' ELSE '` + fiscal.JobRunning + `' END`
	}
	q := `SELECT 'annual' AS job, m.slug AS municipality, r.year AS year, r.phase AS name, ` + state("r") + ` AS state, 0 AS dry, 1 AS runs,
			r.objects_done AS done, r.objects_total AS total, ` + epoch("r.updated_at") + ` AS at
		FROM assessment_runs r JOIN municipalities m ON m.id = r.municipality_id
		UNION ALL
		SELECT 'import', '', 0, i.kind, i.state, i.dry, COUNT(*), CAST(SUM(i.rows_total) AS BIGINT), CAST(SUM(i.file_rows) AS BIGINT), MAX(i.at)
		FROM (SELECT kind, ` + state("imports") + ` AS state, CASE WHEN dry_run THEN 1 ELSE 0 END AS dry, rows_total, file_rows,
			` + epoch("updated_at") + ` AS at FROM imports) i
		GROUP BY i.kind, i.state, i.dry
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
