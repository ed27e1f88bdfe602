package assess

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"fiscald/fiscal"
)

// RecomputeOptions configure a recomputation.
type RecomputeOptions struct {
	MunicipalityID int64
	Year           int
	// BatchObjects is about how many assessments one transaction
	// recomputes (default 500; a batch ends at a taxpayer boundary).
	BatchObjects int
	// Progress, when set, is called after every committed batch with the
	// run as stored.
	Progress func(*fiscal.RecomputeRun)
}

// Recompute recomputes a year's current assessments under the parameters in
// force now (fiscald recompute; POST /api/v1/admin/recompute): it starts or
// resumes the year's run and commits batches until no taxpayer is left,
// then returns the run with its summary. Each batch is one short
// transaction (the service keeps serving). Idempotent: objects whose debts
// already match the engine are left alone, so a second run changes
// nothing. An error leaves the run open; running again resumes it.
func Recompute(ctx context.Context, st fiscal.RecomputeStore, o RecomputeOptions) (*fiscal.RecomputeRun, error) {
	run, err := st.StartRecomputeRun(ctx, o.MunicipalityID, o.Year)
	if err != nil {
		return nil, err
	}
	return continueRecompute(ctx, st, o, run.ID)
}

func continueRecompute(ctx context.Context, st fiscal.RecomputeStore, o RecomputeOptions, runID int64) (*fiscal.RecomputeRun, error) {
	if o.BatchObjects <= 0 {
		o.BatchObjects = 500
	}
	for {
		res, err := st.RecomputeBatch(ctx, o.MunicipalityID, runID, o.BatchObjects)
		if err != nil {
			_ = st.FinishRecomputeRun(context.WithoutCancel(ctx), o.MunicipalityID, runID, err)
			return st.RecomputeRun(context.WithoutCancel(ctx), o.MunicipalityID, runID)
		}
		if o.Progress != nil {
			if r, err := st.RecomputeRun(ctx, o.MunicipalityID, runID); err == nil {
				o.Progress(r)
			}
		}
		if res.Done {
			break
		}
	}
	if err := st.FinishRecomputeRun(ctx, o.MunicipalityID, runID, nil); err != nil {
		return nil, err
	}
	return st.RecomputeRun(ctx, o.MunicipalityID, runID)
}

// RecomputeService runs recomputations in the server's background
// (fiscal.RecomputeService): POST starts or resumes the year's run in a
// goroutine and answers at once with the run; GET reports it. A run this
// process is already driving is not started twice (409). If the process
// stops, the run stays open and the next POST (or fiscald recompute)
// resumes it from its cursor.
type RecomputeService struct {
	Store  fiscal.RecomputeStore
	Logger *slog.Logger
	// BatchObjects as in RecomputeOptions.
	BatchObjects int

	mu      sync.Mutex
	running map[int64]bool // run ids driven by this process
	wg      sync.WaitGroup
}

var _ fiscal.RecomputeService = (*RecomputeService)(nil)

// StartRecompute starts or resumes the year's run (admin).
func (s *RecomputeService) StartRecompute(ctx context.Context, in *fiscal.RecomputeInput) (*fiscal.RecomputeRun, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	run, err := s.Store.StartRecomputeRun(ctx, a.MunicipalityID, in.Year)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.running == nil {
		s.running = map[int64]bool{}
	}
	if s.running[run.ID] {
		s.mu.Unlock()
		return nil, fiscal.Errorf(fiscal.ECONFLICT, "recompute run %d of %d is running: follow it at GET /api/v1/admin/recompute/%d", run.ID, in.Year, run.ID)
	}
	s.running[run.ID] = true
	s.mu.Unlock()
	s.wg.Add(1)
	bg := fiscal.WithActor(context.WithoutCancel(ctx), &fiscal.Actor{System: true, Username: "recompute (" + a.Username + ")", MunicipalityID: a.MunicipalityID})
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, run.ID)
			s.mu.Unlock()
		}()
		r, err := continueRecompute(bg, s.Store, RecomputeOptions{MunicipalityID: a.MunicipalityID, Year: in.Year, BatchObjects: s.BatchObjects}, run.ID)
		if s.Logger != nil {
			switch {
			case err != nil:
				s.Logger.Error("recompute", "run", run.ID, "err", err)
			case r.Error != "":
				s.Logger.Error("recompute stopped", "run", run.ID, "err", r.Error)
			default:
				s.Logger.Info("recompute finished", "run", run.ID, "year", r.Year, "objects", r.Objects, "up", r.Up, "down", r.Down,
					"unchanged", r.Unchanged, "failed", r.Failed, "extra", r.Total.Extra.String(), "credit", r.Total.Credit.String())
			}
		}
	}()
	return s.Store.RecomputeRun(ctx, a.MunicipalityID, run.ID)
}

// RecomputeRun reports a run of the admin's municipality.
func (s *RecomputeService) RecomputeRun(ctx context.Context, id int64) (*fiscal.RecomputeRun, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	return s.Store.RecomputeRun(ctx, a.MunicipalityID, id)
}

// Wait blocks until the runs started by this service have stopped (tests,
// shutdown).
func (s *RecomputeService) Wait() { s.wg.Wait() }

// SummaryLines formats a finished run for a terminal.
func SummaryLines(r *fiscal.RecomputeRun) []string {
	out := []string{fmt.Sprintf("recompute run %d, year %d: %d objects, %d up, %d down, %d unchanged, %d not recomputed (%d batches)",
		r.ID, r.Year, r.Objects, r.Up, r.Down, r.Unchanged, r.Failed, r.Batches)}
	out = append(out, fmt.Sprintf("%-14s %14s %14s %14s", "budget code", "extra debt", "debt reduced", "credit"))
	for _, t := range append(r.Totals, r.Total) {
		out = append(out, fmt.Sprintf("%-14s %14s %14s %14s", t.BudgetCode, t.Extra, t.Reduced, t.Credit))
	}
	if r.Error != "" {
		out = append(out, "stopped: "+r.Error+" (run again to resume)")
	}
	return out
}
