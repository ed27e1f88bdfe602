package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fiscald/assess"
	"fiscald/fiscal"
	"fiscald/internal/importer"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// scrape reads the scrapers' /metrics of the environment's server.
func (e *env) scrape() string {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		e.t.Fatalf("metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

// metric is the value of one series in a scrape ("" when absent).
func metric(body, series string) string {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return ""
}

// wantMetrics checks series (full name with labels → value) in a scrape.
func wantMetrics(t *testing.T, when, body string, want map[string]string) {
	t.Helper()
	for s, v := range want {
		if got := metric(body, s); got != v {
			t.Errorf("%s: %s = %q, want %q", when, s, got, v)
		}
	}
	if t.Failed() {
		t.Logf("the scrape:\n%s", body)
		t.FailNow()
	}
}

func cityFile(t *testing.T, kind string) (fiscal.ImportFile, int64) {
	t.Helper()
	path := "../importer/testdata/city/" + kind + ".csv"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return fiscal.ImportFile{Name: filepath.Base(path), Data: f, Size: int64(len(raw))}, int64(strings.Count(string(raw), "\n") - 1)
}

// TestMetricsJobProgress: the imports and the annual run record their
// progress in the database with each batch, so /metrics of an instance
// shows the jobs another process runs (fiscald import and fiscald assess
// are processes of their own: here a second pool on the same database,
// storetest.Reopen), while they run, when they finish and when they stop
// on an error (failed, until a rerun resumes them).
func TestMetricsJobProgress(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		cli := storetest.Reopen(t, db) // the CLI's process
		job := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "fiscald import", MunicipalityID: e.muni.ID})
		now := func() string { return strconv.FormatInt(clock.Now().Unix(), 10) }

		// Nothing ran yet: no series of a job, the families are there.
		body := e.scrape()
		for _, fam := range []string{"fiscald_annual_run_objects_done", "fiscald_import_rows_done", "fiscald_imports"} {
			if !strings.Contains(body, "# TYPE "+fam+" gauge\n") || strings.Contains(body, fam+"{") {
				t.Fatalf("before any job, %s:\n%s", fam, body)
			}
		}

		// An import of the CLI, three lines a batch: each batch's progress
		// is on the server's /metrics as soon as it is committed.
		tps, tpRows := cityFile(t, "taxpayers")
		batches := 0
		_, err := importer.Run(job, cli, "taxpayers", tps, false, importer.Options{MunicipalityID: e.muni.ID, BatchRows: 3, Progress: func(p importer.Progress) {
			batches++
			if p.Lines == tpRows {
				return // the last call: the run is about to finish
			}
			wantMetrics(t, fmt.Sprintf("taxpayers batch %d", batches), e.scrape(), map[string]string{
				`fiscald_import_rows_done{kind="taxpayers"}`:                         strconv.FormatInt(p.Lines, 10),
				`fiscald_import_rows{kind="taxpayers"}`:                              strconv.FormatInt(tpRows, 10),
				`fiscald_imports{kind="taxpayers",state="running",dry_run="false"}`:  "1",
				`fiscald_imports{kind="taxpayers",state="finished",dry_run="false"}`: "0",
				`fiscald_import_last_progress_timestamp_seconds{kind="taxpayers"}`:   now(),
			})
			clock.Advance(time.Minute)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if batches < 3 {
			t.Fatalf("%d batches", batches)
		}
		wantMetrics(t, "taxpayers imported", e.scrape(), map[string]string{
			`fiscald_import_rows_done{kind="taxpayers"}`:                         "0",
			`fiscald_import_rows{kind="taxpayers"}`:                              "0",
			`fiscald_imports{kind="taxpayers",state="running",dry_run="false"}`:  "0",
			`fiscald_imports{kind="taxpayers",state="finished",dry_run="false"}`: "1",
			`fiscald_import_last_progress_timestamp_seconds{kind="taxpayers"}`:   "",
		})

		// An import stopped after its first batch (SIGTERM) is failed until
		// the same file, run again, resumes and finishes it.
		veh, vehRows := cityFile(t, "vehicles")
		stop, cancel := context.WithCancel(job)
		_, err = importer.Run(stop, cli, "vehicles", veh, false, importer.Options{MunicipalityID: e.muni.ID, BatchRows: 4, Progress: func(importer.Progress) { cancel() }})
		if err == nil {
			t.Fatal("the stopped import finished")
		}
		wantMetrics(t, "vehicles stopped", e.scrape(), map[string]string{
			`fiscald_imports{kind="vehicles",state="failed",dry_run="false"}`:  "1",
			`fiscald_imports{kind="vehicles",state="running",dry_run="false"}`: "0",
			`fiscald_import_rows_done{kind="vehicles"}`:                        "0", // failed: not running
		})
		if _, err := importer.Run(job, cli, "vehicles", veh, false, importer.Options{MunicipalityID: e.muni.ID, BatchRows: 4, Progress: func(p importer.Progress) {
			if p.Lines < vehRows && !p.Resumed {
				t.Errorf("the rerun did not resume: %+v", p)
			}
		}}); err != nil {
			t.Fatal(err)
		}
		// A dry run through the admin API (this instance) counts apart.
		lands, err := os.ReadFile("../importer/testdata/city/lands.csv")
		if err != nil {
			t.Fatal(err)
		}
		if r := e.importFile(e.tokens["admin"], "lands", "true", "lands.csv", lands); r.Status != 201 {
			t.Fatalf("dry run: %d %s", r.Status, r.Raw)
		}
		wantMetrics(t, "vehicles resumed", e.scrape(), map[string]string{
			`fiscald_imports{kind="vehicles",state="failed",dry_run="false"}`:   "0",
			`fiscald_imports{kind="vehicles",state="finished",dry_run="false"}`: "1",
			`fiscald_imports{kind="lands",state="finished",dry_run="true"}`:     "1",
			`fiscald_imports{kind="lands",state="finished",dry_run="false"}`:    "0",
		})

		// The annual run of the CLI, two objects a batch.
		var objects int64
		opts := assess.Options{MunicipalityID: e.muni.ID, Municipality: e.muni.Slug, Year: 2026, BatchObjects: 2, Workers: 1, Phases: []string{fiscal.PhaseVehicles}}
		opts.Progress = func(p assess.Progress) {
			objects = p.Total
			vehicle := `{municipality="timisoara",year="2026",phase="vehicle"}`
			wantMetrics(t, fmt.Sprintf("assess batch %d", p.Batches), e.scrape(), map[string]string{
				`fiscald_annual_run_objects_done` + vehicle:                                                       strconv.FormatInt(p.Objects, 10),
				`fiscald_annual_run_objects` + vehicle:                                                            strconv.FormatInt(p.Total, 10),
				`fiscald_annual_run_state{municipality="timisoara",year="2026",phase="vehicle",state="running"}`:  "1",
				`fiscald_annual_run_state{municipality="timisoara",year="2026",phase="vehicle",state="finished"}`: "0",
				`fiscald_annual_run_last_progress_timestamp_seconds` + vehicle:                                    now(),
			})
			clock.Advance(time.Minute)
		}
		if _, err := assess.Run(job, cli, opts); err != nil {
			t.Fatal(err)
		}
		if objects < 4 {
			t.Fatalf("%d vehicles: too few for several batches", objects)
		}
		n := strconv.FormatInt(objects, 10)
		wantMetrics(t, "assessed", e.scrape(), map[string]string{
			`fiscald_annual_run_objects_done{municipality="timisoara",year="2026",phase="vehicle"}`:                    n,
			`fiscald_annual_run_objects{municipality="timisoara",year="2026",phase="vehicle"}`:                         n,
			`fiscald_annual_run_state{municipality="timisoara",year="2026",phase="vehicle",state="running"}`:           "0",
			`fiscald_annual_run_state{municipality="timisoara",year="2026",phase="vehicle",state="finished"}`:          "1",
			`fiscald_annual_run_last_progress_timestamp_seconds{municipality="timisoara",year="2026",phase="vehicle"}`: now(),
		})

		// A run of the next year stopped after its first batch is failed,
		// with the objects it read; the rerun resumes it to the end.
		stop, cancel = context.WithCancel(job)
		opts.Year, opts.Progress = 2027, func(assess.Progress) { cancel() }
		if _, err := assess.Run(stop, cli, opts); err == nil {
			t.Fatal("the stopped run finished")
		}
		wantMetrics(t, "2027 stopped", e.scrape(), map[string]string{
			`fiscald_annual_run_objects_done{municipality="timisoara",year="2027",phase="vehicle"}`:           "2",
			`fiscald_annual_run_objects{municipality="timisoara",year="2027",phase="vehicle"}`:                n,
			`fiscald_annual_run_state{municipality="timisoara",year="2027",phase="vehicle",state="failed"}`:   "1",
			`fiscald_annual_run_state{municipality="timisoara",year="2027",phase="vehicle",state="running"}`:  "0",
			`fiscald_annual_run_state{municipality="timisoara",year="2026",phase="vehicle",state="finished"}`: "1",
		})
		opts.Progress = nil
		if _, err := assess.Run(job, cli, opts); err != nil {
			t.Fatal(err)
		}
		wantMetrics(t, "2027 resumed", e.scrape(), map[string]string{
			`fiscald_annual_run_objects_done{municipality="timisoara",year="2027",phase="vehicle"}`:           n,
			`fiscald_annual_run_state{municipality="timisoara",year="2027",phase="vehicle",state="failed"}`:   "0",
			`fiscald_annual_run_state{municipality="timisoara",year="2027",phase="vehicle",state="finished"}`: "1",
		})
	})
}
