// Package assess runs the annual assessment of a municipality for a tax
// year: every taxed object (vehicles, then buildings) is assessed by the tax
// engine with that year's parameters, and its assessment and instalment
// debts are written in short batches, each in one transaction with the
// run's cursor, so the run is idempotent (a second run adds nothing) and
// resumable (killed at any moment, the next run continues after the last
// committed batch and ends with the same rows).
//
// Reading, computing and writing overlap: one reader fetches the objects of
// a range of taxpayers, compute workers run the engine, one writer commits
// batches in taxpayer order. A taxpayer is never split between batches,
// because the ≤ 50 lei rule (local-taxes.md §4) looks at the sum of a
// taxpayer's objects of one tax type.
package assess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"time"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Options configure a run.
type Options struct {
	MunicipalityID int64
	// Municipality is the slug the engine's parameters are keyed by.
	Municipality string
	Year         int
	// Phases to run, in order (default vehicles, buildings, land).
	Phases []string
	// BatchObjects is about how many objects one transaction writes
	// (default 4000; a batch ends at a taxpayer boundary).
	BatchObjects int
	// Workers compute in parallel (default GOMAXPROCS).
	Workers int
	// Pause is how long the writer waits after each committed batch before
	// opening the next one (default none). While the server keeps taking
	// payments on SQLite, a pause lets its writers, which wait for the
	// single write lock in SQLite's busy handler (sleeps of up to 100 ms),
	// take the lock between batches instead of finding it held again.
	Pause time.Duration
	// Share, between 0 and 1, bounds the share of the time the run spends
	// writing (default 1: no bound): after a batch whose write took T the
	// writer waits T×(1/Share − 1), at least Pause. On SQLite a run beside a
	// busy server then holds the single write lock at most that share of
	// the time, and the server's writes wait at most one batch.
	Share float64
	// Progress, when set, is called after every committed batch.
	Progress func(Progress)
}

// Progress is the state of a running phase.
type Progress struct {
	Phase     string
	Objects   int64 // objects of the phase read so far, this pass, counting those done before a resume
	Total     int64 // objects of the phase in the register
	Written   int64 // assessments written by this process
	Debts     int64
	Batches   int64
	StartedAt time.Time
}

// Unassessed counts objects the engine refused, by reason (a rate not
// configured for that year, invalid attributes): they are left without an
// assessment and reported; a later run assesses them once the parameter is
// entered.
type Unassessed struct {
	Reason  string
	Objects int64
	// Example is one object id with this reason.
	Example int64
}

// Report is the outcome of a run.
type Report struct {
	Year        int
	Assessments int64 // written by this process
	Debts       int64
	Skipped     int64 // already assessed (earlier pass or a case)
	NotTaxed    int64 // not owned on 31 December of the previous year, nor sold within the year
	Unassessed  []Unassessed
	Summary     []fiscal.AnnualSummaryRow
	Elapsed     time.Duration
}

// Run assesses the year. It returns the report even when some objects could
// not be assessed; an error means the run stopped (rerun to resume).
func Run(ctx context.Context, st fiscal.AnnualStore, o Options) (*Report, error) {
	if o.BatchObjects <= 0 {
		o.BatchObjects = 4000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if len(o.Phases) == 0 {
		o.Phases = []string{fiscal.PhaseVehicles, fiscal.PhaseBuildings, fiscal.PhaseLands}
	}
	start := time.Now()
	engine, err := st.TaxEngine(ctx, o.MunicipalityID)
	if err != nil {
		return nil, err
	}
	rep := &Report{Year: o.Year}
	refused := map[string]*Unassessed{}
	for _, phase := range o.Phases {
		if err := runPhase(ctx, st, engine, o, phase, rep, refused); err != nil {
			return rep, err
		}
	}
	for _, u := range refused {
		rep.Unassessed = append(rep.Unassessed, *u)
	}
	sort.Slice(rep.Unassessed, func(i, j int) bool { return rep.Unassessed[i].Objects > rep.Unassessed[j].Objects })
	if rep.Summary, err = st.AnnualSummary(ctx, o.MunicipalityID, o.Year); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// job is one batch flowing through the pipeline.
type job struct {
	from, to int64
	objects  []fiscal.AnnualObject
	batch    fiscal.AnnualBatch
	notTaxed int64
	refused  []refusal
	done     chan struct{}
	err      error
}

type refusal struct {
	reason string
	id     int64
}

func runPhase(ctx context.Context, st fiscal.AnnualStore, engine *calc.Engine, o Options, phase string, rep *Report, refused map[string]*Unassessed) (err error) {
	run, err := st.StartAnnualRun(ctx, o.MunicipalityID, o.Year, phase)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			failRun(ctx, st, o, phase, err)
		}
	}()
	total, done := run.ObjectsTotal, run.ObjectsDone
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	toCompute := make(chan *job, o.Workers)
	toWrite := make(chan *job, o.Workers+2)
	readErr := make(chan error, 1)
	// Reader: taxpayer ranges in key order.
	go func() {
		defer close(toCompute)
		defer close(toWrite)
		after := run.CursorTaxpayerID
		for {
			upTo, last, err := st.NextTaxpayerBound(ctx, o.MunicipalityID, phase, after, o.BatchObjects)
			var objs []fiscal.AnnualObject
			if err == nil {
				objs, err = st.AnnualObjects(ctx, o.MunicipalityID, phase, run.Year, after, upTo)
			}
			if err != nil {
				readErr <- err
				return
			}
			if len(objs) == 0 {
				readErr <- nil
				return
			}
			to := objs[len(objs)-1].TaxpayerID
			j := &job{from: after, to: to, objects: objs, done: make(chan struct{})}
			select {
			case toCompute <- j:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
			select {
			case toWrite <- j:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
			after = to
			if last {
				readErr <- nil
				return
			}
		}
	}()
	// Compute workers.
	for w := 0; w < o.Workers; w++ {
		go func() {
			for j := range toCompute {
				j.err = compute(engine, o, phase, j)
				close(j.done)
			}
		}()
	}
	// Writer: in order, one transaction per batch.
	p := Progress{Phase: phase, Objects: done, Total: total, StartedAt: time.Now()}
	for j := range toWrite {
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if j.err != nil {
			return j.err
		}
		wrote := time.Now()
		j.batch.ObjectsDone = p.Objects + int64(len(j.objects))
		res, err := st.WriteAnnualBatch(ctx, o.MunicipalityID, &j.batch)
		if err != nil {
			return err
		}
		pause := pauseAfter(time.Since(wrote), o)
		rep.Assessments += int64(res.Assessments)
		rep.Debts += int64(res.Debts)
		rep.Skipped += int64(res.Skipped)
		rep.NotTaxed += j.notTaxed
		for _, r := range j.refused {
			u := refused[r.reason]
			if u == nil {
				u = &Unassessed{Reason: r.reason, Example: r.id}
				refused[r.reason] = u
			}
			u.Objects++
		}
		p.Objects += int64(len(j.objects))
		p.Written += int64(res.Assessments)
		p.Debts += int64(res.Debts)
		p.Batches++
		j.objects, j.batch.Items = nil, nil
		if o.Progress != nil {
			o.Progress(p)
		}
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
	}
	if err := <-readErr; err != nil {
		return err
	}
	return st.FinishAnnualRun(ctx, o.MunicipalityID, o.Year, phase)
}

// failRun records that the phase stopped on err, for /metrics (state
// failed until a rerun resumes it), unless another run of the phase is
// writing (ECONFLICT: that run is not failed). It runs even when ctx was
// cancelled (SIGTERM), within a few seconds; a failure to record it is
// left out (the run's own error is what the caller reports).
func failRun(ctx context.Context, st fiscal.AnnualStore, o Options, phase string, err error) {
	if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = st.FailAnnualRun(ctx, o.MunicipalityID, o.Year, phase, err.Error())
}

// pauseAfter is how long the writer waits after a batch whose write took
// wrote: Pause, or longer when Share bounds the share of time spent writing.
func pauseAfter(wrote time.Duration, o Options) time.Duration {
	if o.Share > 0 && o.Share < 1 {
		return max(o.Pause, time.Duration(float64(wrote)*(1/o.Share-1)))
	}
	return o.Pause
}

// compute assesses a batch: the objects each taxpayer owes for the year,
// their annual tax, and the instalments decided on the taxpayer's sum per
// tax type.
func compute(engine *calc.Engine, o Options, phase string, j *job) error {
	j.batch = fiscal.AnnualBatch{Year: o.Year, Phase: phase, FromTaxpayer: j.from, ToTaxpayer: j.to,
		Items: make([]fiscal.AnnualAssessment, 0, len(j.objects))}
	objs := j.objects
	for start := 0; start < len(objs); {
		end := start + 1
		for end < len(objs) && objs[end].TaxpayerID == objs[start].TaxpayerID {
			end++
		}
		if err := computeTaxpayer(engine, o, phase, objs[start:end], j); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// refusalReason is the summary's reason for an object the engine refused: a
// missing parameter by its key alone (so every truck whose band is missing
// counts under one line naming the key to enter), other errors as they are.
func refusalReason(err error) string {
	var mp *calc.MissingParamError
	if !errors.As(err, &mp) {
		return err.Error()
	}
	r := fmt.Sprintf("parameter %s not configured for %d", mp.Key, mp.Date.Year)
	if mp.Range != nil {
		r += fmt.Sprintf(" (the council chooses it within %s, %s)", mp.Range.String(), mp.Range.LegalBasis)
	}
	return r
}

func computeTaxpayer(engine *calc.Engine, o Options, phase string, objs []fiscal.AnnualObject, j *job) error {
	// Items of the regular schedule (owned on 31 December of the previous
	// year); same-year sales have their own due date and stay out of the
	// ≤ 50 lei sum.
	var regular []int
	for i := range objs {
		ob := &objs[i]
		due, sameYear, taxed := owes(phase, ob, o.Year)
		if !taxed {
			j.notTaxed++
			continue
		}
		a, err := engine.Annual(o.Municipality, o.Year, ob.Object)
		if err == nil && ob.Share > 0 {
			// A co-owner owes the tax on their share, rounded per owner.
			a, err = calc.ShareOf(a, ob.Share)
		}
		if err != nil {
			var mp *calc.MissingParamError
			var ie calc.InputErrors
			if errors.As(err, &mp) || errors.As(err, &ie) {
				j.refused = append(j.refused, refusal{reason: refusalReason(err), id: ob.ID})
				continue
			}
			return fmt.Errorf("assess %s %d: %w", phase, ob.ID, err)
		}
		lines, err := json.Marshal(a.Lines)
		if err != nil {
			return err
		}
		it := fiscal.AnnualAssessment{NewAssessment: fiscal.NewAssessment{TaxpayerID: ob.TaxpayerID, TaxType: a.TaxType, ObjectKind: phase,
			ObjectID: ob.ID, Year: o.Year, Assessment: a, Source: "annual"}, LinesJSON: lines}
		if sameYear {
			if a.Annual > 0 {
				it.Installments = []calc.Installment{{DueDate: due, Amount: a.Annual}}
			}
		} else {
			regular = append(regular, len(j.batch.Items))
			if it.Bonus, err = engine.Bonus(o.Municipality, o.Year, a.TaxType, a.Annual); err != nil {
				return fmt.Errorf("assess %s %d: bonus: %w", phase, ob.ID, err)
			}
		}
		j.batch.Items = append(j.batch.Items, it)
	}
	if len(regular) == 0 {
		return nil
	}
	// One schedule per tax type (a phase has one tax type, but stay exact).
	byType := map[string][]int{}
	for _, k := range regular {
		t := j.batch.Items[k].TaxType
		byType[t] = append(byType[t], k)
	}
	for _, ks := range byType {
		annuals := make([]money.Bani, len(ks))
		for i, k := range ks {
			annuals[i] = j.batch.Items[k].Assessment.Annual
		}
		inst, err := engine.TaxpayerInstallments(o.Municipality, o.Year, annuals)
		if err != nil {
			return fmt.Errorf("assess taxpayer %d: instalments: %w", objs[0].TaxpayerID, err)
		}
		for i, k := range ks {
			j.batch.Items[k].Installments = inst[i]
		}
	}
	return nil
}

// owes says whether the object's owner owes its tax for year: owned on
// 31 December of year-1 and not ended before year began (art. 456 and 471;
// calc.TaxedInYear for vehicles), or, for vehicles from 2026, bought and sold
// within year (OUG 7/2026), due on the date of sale.
func owes(phase string, ob *fiscal.AnnualObject, year int) (due civil.Date, sameYear, taxed bool) {
	if phase == fiscal.PhaseVehicles {
		if !calc.TaxedInYear(ob.AcquiredOn, ob.EndedOn, year) {
			return civil.Date{}, false, false
		}
		if d, ok := calc.SameYearSale(ob.AcquiredOn, ob.EndedOn); ok && ob.AcquiredOn.Year == year {
			return d, true, true
		}
		return civil.Date{}, false, true
	}
	if ob.AcquiredOn.Year < year && (ob.EndedOn == nil || ob.EndedOn.Year >= year) {
		return civil.Date{}, false, true
	}
	return civil.Date{}, false, false
}
