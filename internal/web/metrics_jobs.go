package web

import (
	"fmt"
	"strconv"
	"strings"

	"fiscald/fiscal"
)

// jobStates are the states a long job is in, each a series of the state
// gauges (1 for the job's state, 0 for the others).
var jobStates = []string{fiscal.JobRunning, fiscal.JobFinished, fiscal.JobFailed}

// renderJobs writes the long jobs' progress as the database holds it (the
// same on every instance, whichever process runs the job: the annual run is
// `fiscald assess`, imports `fiscald import` or the admin API). Every value
// is a gauge: a run's counts move back when a new pass starts, and a run
// moves from running to finished or failed and back.
func renderJobs(b *strings.Builder, p *fiscal.JobProgress) {
	label := func(r fiscal.AnnualRunProgress) string {
		return fmt.Sprintf("municipality=%q,year=\"%d\",phase=%q", r.Municipality, r.Year, r.Phase)
	}
	b.WriteString("# HELP fiscald_annual_run_objects_done Objects of a phase of the annual run (fiscald assess) read in its current pass, assessed or not (all instances: the database's).\n# TYPE fiscald_annual_run_objects_done gauge\n")
	for _, r := range p.Annual {
		fmt.Fprintf(b, "fiscald_annual_run_objects_done{%s} %d\n", label(r), r.ObjectsDone)
	}
	b.WriteString("# HELP fiscald_annual_run_objects Objects of a phase of the annual run in the register when its current pass started.\n# TYPE fiscald_annual_run_objects gauge\n")
	for _, r := range p.Annual {
		fmt.Fprintf(b, "fiscald_annual_run_objects{%s} %d\n", label(r), r.ObjectsTotal)
	}
	b.WriteString("# HELP fiscald_annual_run_state A phase of the annual run is running, finished or failed (1 for its state; failed: stopped on an error, rerun fiscald assess to resume; a run killed outright stays running, its last progress getting old).\n# TYPE fiscald_annual_run_state gauge\n")
	for _, r := range p.Annual {
		for _, st := range jobStates {
			fmt.Fprintf(b, "fiscald_annual_run_state{%s,state=%q} %d\n", label(r), st, boolGauge(r.State == st))
		}
	}
	b.WriteString("# HELP fiscald_annual_run_last_progress_timestamp_seconds When a phase of the annual run last moved (its start, last batch committed, finish or failure), in Unix seconds.\n# TYPE fiscald_annual_run_last_progress_timestamp_seconds gauge\n")
	for _, r := range p.Annual {
		fmt.Fprintf(b, "fiscald_annual_run_last_progress_timestamp_seconds{%s} %d\n", label(r), r.UpdatedAt.Unix())
	}

	// Imports: per kind (every kind imported at least once has its series).
	type importSum struct {
		done, rows int64
		last       int64 // Unix seconds of the latest progress of a running import; 0: none running
		runs       map[[2]string]int64
	}
	var kinds []string
	byKind := map[string]*importSum{}
	for _, r := range p.Imports {
		s := byKind[r.Kind]
		if s == nil {
			s = &importSum{runs: map[[2]string]int64{}}
			byKind[r.Kind] = s
			kinds = append(kinds, r.Kind)
		}
		s.runs[[2]string{r.State, strconv.FormatBool(r.DryRun)}] += r.Runs
		if r.State == fiscal.JobRunning {
			s.done += r.RowsDone
			s.rows += r.FileRows
			s.last = max(s.last, r.UpdatedAt.Unix())
		}
	}
	b.WriteString("# HELP fiscald_import_rows_done Lines checked so far by the running imports of a kind, dry runs included (all instances: the database's).\n# TYPE fiscald_import_rows_done gauge\n")
	for _, k := range kinds {
		fmt.Fprintf(b, "fiscald_import_rows_done{kind=%q} %d\n", k, byKind[k].done)
	}
	b.WriteString("# HELP fiscald_import_rows Data lines of the files of the running imports of a kind (CSV: counted before the first batch; an XLSX file counts 0, its lines are not known ahead).\n# TYPE fiscald_import_rows gauge\n")
	for _, k := range kinds {
		fmt.Fprintf(b, "fiscald_import_rows{kind=%q} %d\n", k, byKind[k].rows)
	}
	b.WriteString("# HELP fiscald_import_last_progress_timestamp_seconds When a running import of a kind last moved (its start or last batch committed), in Unix seconds; absent when none runs.\n# TYPE fiscald_import_last_progress_timestamp_seconds gauge\n")
	for _, k := range kinds {
		if s := byKind[k]; s.last > 0 {
			fmt.Fprintf(b, "fiscald_import_last_progress_timestamp_seconds{kind=%q} %d\n", k, s.last)
		}
	}
	b.WriteString("# HELP fiscald_imports Import runs by kind, state (running, finished, failed: stopped on an error, the same file run again resumes it) and dry run.\n# TYPE fiscald_imports gauge\n")
	for _, k := range kinds {
		for _, st := range jobStates {
			for _, dry := range []string{"false", "true"} {
				fmt.Fprintf(b, "fiscald_imports{kind=%q,state=%q,dry_run=%q} %d\n", k, st, dry, byKind[k].runs[[2]string{st, dry}])
			}
		}
	}
}

func boolGauge(v bool) int {
	if v {
		return 1
	}
	return 0
}
