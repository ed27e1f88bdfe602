package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
)

// Intakes of a municipality share the case counter, held from the moment
// it is taken until commit (and, at commit, the audit chain's head, which
// every writer of the municipality shares: flushAudit): taken one intake at
// a time, they bound the intakes a municipality can file per second to one
// locked part (the signing of its step, a batched write, a commit) each.
// So the intakes a process has waiting for one municipality are filed
// together, in one transaction (a group commit): each writes its case rows
// under a provisional number after a savepoint of its own (a failure rolls
// back to it and answers that request alone: a document referenced twice,
// a key claimed by another request), then one statement takes n numbers,
// the steps are signed, one batched statement writes every case's number,
// signed step, notification and kept reply, the audit entries are chained
// at commit (flushAudit) and one commit makes them durable. Every intake's result and error are its own; the
// numbers stay gapless and the chain linear across instances, since the
// rows are locked in the database. At most intakeRunners groups
// of a municipality are in flight in a process: the second writes its
// cases while the first holds the rows. A group holds at most
// maxIntakeGroup intakes.
const (
	maxIntakeGroup = 32
	intakeRunners  = 2
	// intakeGroupTimeout bounds a group's transaction, which runs for
	// several requests and so on none of their contexts.
	intakeGroupTimeout = 30 * time.Second
)

// abortedTx marks an intake's error from a statement that failed: on
// PostgreSQL its group's transaction is aborted and filed again without it.
type abortedTx struct{ error }

func (e abortedTx) Unwrap() error { return e.error }

// intakeJob is one intake: what CreateCase read and checked before the
// transaction, and its outcome.
type intakeJob struct {
	ctx        context.Context // the request's: actor and Idempotency-Key claim
	actor      *fiscal.Actor
	caseType   string
	def        *publishedDef // the version of the type the case is filed under
	slaDays    int
	taxpayerID int64
	data       json.RawMessage
	atts       []*fiscal.Attachment
	cal        *calendar.Calendar
	muni       muniInfo
	officers   []int64
	tpEmail    string
	tpUser     *int64
	keyUID     int64
	key        *signingKey

	// Set by the transaction that files it.
	c        *caseRow
	out      *fiscal.Case
	claimRow int64
	kept     *fiscal.StoredResponse
	err      error
	done     chan struct{}
}

// write inserts the case, its documents and its "submitted" line under a
// provisional number (tx.Actor is the job's actor). On PostgreSQL, claim (if
// not nil) is claimed in the same statement (insertCase): its id is
// returned, and ErrIdempotencyInFlight without a write if it was taken.
func (j *intakeJob) write(ctx context.Context, tx *Tx, claim *fiscal.IdempotencyClaim) (int64, error) {
	today := fiscal.LocalDate(tx.Now)
	c := &caseRow{MunicipalityID: j.actor.MunicipalityID, Type: j.caseType,
		TaxpayerID: j.taxpayerID, Data: string(j.data), Status: string(fiscal.StatusSubmitted), SubmittedAt: tx.Now, SubmittedOn: today,
		SLAWorkingDays: j.slaDays, Pauses: pauseList{}, Result: "{}", UpdatedAt: tx.Now, Version: 1, DefinitionVersion: &j.def.version, def: j.def,
		hist: &routeHistory{}} // a new case: no act yet
	c.DueOn, _ = j.cal.AddWorkingDays(today, j.slaDays)
	if !j.actor.System {
		uid := j.actor.UserID
		c.CreatedBy = &uid
	}
	for _, att := range j.atts {
		att.ID, att.CaseID = 0, 0
	}
	if err := checkDistinctDocuments(j.atts); err != nil {
		return 0, err
	}
	eventBody := strings.Join(fiscal.AttachmentKeys(j.atts), " ")
	var claimID int64
	if tx.db.dialect == "postgres" {
		// One statement for the claim, the case, its documents and its
		// timeline line (each round trip costs both processes more CPU
		// than the statement's own work).
		var err error
		if claimID, err = tx.insertCase(ctx, c, j.atts, eventBody, claim); err != nil {
			if !errors.Is(err, fiscal.ErrIdempotencyInFlight) {
				err = abortedTx{err}
			}
			return 0, err
		}
	} else {
		if claim != nil {
			return 0, fiscal.Internal(errors.New("the SQLite intake claims its key before write"), "intake")
		}
		var err error
		c.ID, err = tx.Insert(ctx, insertCaseValues, c.insertArgs()...)
		if err != nil {
			return 0, translate(err, "case")
		}
		for _, att := range j.atts {
			att.CaseID, att.CreatedAt = c.ID, tx.Now
			att.ID, err = tx.Insert(ctx, insertAttachmentSQL, attachmentArgs(c, att, c.CreatedBy)...)
			if isUniqueViolation(err) {
				return 0, duplicateDocument(att)
			}
			if err != nil {
				return 0, translate(err, "attachment")
			}
		}
		if err := tx.event(ctx, c, "submitted", eventBody, true); err != nil {
			return 0, err
		}
	}
	j.c = c
	return claimID, nil
}

// finish numbers the written case n and returns the statements that need
// the number (the number and assignee, the signed submit step, the
// notification, the kept reply unless withReply is false) and its audit
// entry, to be chained by the caller.
func (j *intakeJob) finish(ctx context.Context, tx *Tx, n int64, withReply bool) ([]stmt, *fiscal.AuditEntry, error) {
	c, today := j.c, fiscal.LocalDate(tx.Now)
	// A first use of the signing key creates it with its own audit entry
	// (buffered, as the intakes' are: chained at commit).
	k, err := tx.keyFor(ctx, c.MunicipalityID, tx.stepKeyUser())
	if err != nil {
		return nil, nil, err
	}
	c.Number = fmt.Sprintf("%s-%d-%06d", j.muni.casePrefix(), today.Year, n)
	// Round-robin: the gapless series numbers the cases in order, so the
	// n-th case goes to the n-th officer in turn.
	if len(j.officers) > 0 {
		c.AssigneeID = &j.officers[(n-1)%int64(len(j.officers))]
	}
	writes := []stmt{{`UPDATE cases SET number = ?, assignee_id = ? WHERE id = ?`, []any{c.Number, c.AssigneeID, c.ID}}}
	step, err := tx.signStep(c, j.atts, &fiscal.CaseStep{Action: fiscal.ActionSubmit, To: fiscal.StatusSubmitted}, k)
	if err != nil {
		return nil, nil, err
	}
	writes = append(writes, step)
	s, _ := c.sla(j.cal, today)
	if j.tpEmail != "" { // a taxpayer without an address (a registry record) reads the timeline
		writes = append(writes, tx.notification(c, j.tpUser, j.tpEmail, fmt.Sprintf("Cererea %s: %s", c.Number, statusText[fiscal.StatusSubmitted]),
			fmt.Sprintf("Cererea dumneavoastră %s (%s) este înregistrată.\nVeți primi răspunsul până la %s.", c.Number, c.Type, s.DueOn)))
	}
	e, err := tx.auditEntry(c.MunicipalityID, "case.create", "case", c.ID, nil, map[string]any{"number": c.Number, "type": c.Type,
		"taxpayer_id": c.TaxpayerID, "data": json.RawMessage(c.Data), "due_on": c.DueOn, "assignee_id": c.AssigneeID, "attachments": j.atts})
	if err != nil {
		return nil, nil, err
	}
	j.out = c.toCase(j.cal, today, j.atts)
	if withReply {
		// The reply to the request's Idempotency-Key, in the same statement.
		reply, err := tx.replyStmt(ctx, j.out)
		if err != nil {
			return nil, nil, err
		}
		if reply != nil {
			writes = append(writes, *reply)
		}
	}
	return writes, e, nil
}

// intakeAlone files one intake in a transaction of its own, with
// straight-through processing (the decision is taken in the same
// transaction, after the case is written).
func (db *DB) intakeAlone(j *intakeJob) (*fiscal.Case, error) {
	err := db.InTx(j.ctx, func(tx *Tx) error {
		if j.key != nil {
			tx.keyCache = map[int64]*signingKey{j.keyUID: j.key}
		}
		if _, err := j.write(j.ctx, tx, nil); err != nil { // InTx claimed the key
			return err
		}
		n, err := tx.nextCaseNumbers(j.ctx, j.actor.MunicipalityID, fiscal.LocalDate(tx.Now).Year, 1)
		if err != nil {
			return err
		}
		writes, e, err := j.finish(j.ctx, tx, n, false)
		if err != nil {
			return err
		}
		tx.audits = append(tx.audits, e)
		if err := tx.execAll(j.ctx, "case", writes...); err != nil {
			return err
		}
		m := j.muni
		if m.straightThrough(j.caseType) {
			if err := db.tryStraightThrough(j.ctx, tx, j.c, j.atts, j.cal); err != nil {
				return err
			}
			j.out = j.c.toCase(j.cal, fiscal.LocalDate(tx.Now), j.atts)
		}
		return tx.keepReply(j.ctx, j.out)
	})
	if err != nil {
		return nil, err
	}
	return j.out, nil
}

// intakeQueues are this process's intakes waiting to be filed, per
// municipality.
type intakeQueues struct {
	mu sync.Mutex
	q  map[int64]*intakeQueue
}

type intakeQueue struct {
	jobs    []*intakeJob
	running int // groups being filed (at most intakeRunners)
}

// submitIntake files j with the intakes of its municipality waiting at the
// same time and returns its own result.
func (db *DB) submitIntake(j *intakeJob) (*fiscal.Case, error) {
	j.done = make(chan struct{})
	muni := j.actor.MunicipalityID
	db.intakes.mu.Lock()
	if db.intakes.q == nil {
		db.intakes.q = map[int64]*intakeQueue{}
	}
	q := db.intakes.q[muni]
	if q == nil {
		q = &intakeQueue{}
		db.intakes.q[muni] = q
	}
	q.jobs = append(q.jobs, j)
	run := q.running < intakeRunners
	if run {
		q.running++
	}
	db.intakes.mu.Unlock()
	if run {
		db.drainIntakes(q, j)
	}
	<-j.done
	if j.err != nil {
		return nil, j.err
	}
	return j.out, nil
}

// drainIntakes files the queue's intakes group after group until own is
// filed; then, if more are waiting, a goroutine of its own goes on, so that
// no request waits for others' groups after its own.
func (db *DB) drainIntakes(q *intakeQueue, own *intakeJob) {
	for {
		db.intakes.mu.Lock()
		if len(q.jobs) == 0 {
			q.running--
			db.intakes.mu.Unlock()
			return
		}
		if own != nil && isDone(own) {
			db.intakes.mu.Unlock()
			go db.drainIntakes(q, nil)
			return
		}
		n := min(len(q.jobs), maxIntakeGroup)
		group := append([]*intakeJob(nil), q.jobs[:n]...)
		q.jobs = append(q.jobs[:0:0], q.jobs[n:]...)
		db.intakes.mu.Unlock()
		db.fileIntakes(group)
		for _, j := range group {
			close(j.done)
		}
	}
}

func isDone(j *intakeJob) bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// fileIntakes files a group of intakes of one municipality in one
// transaction (see above) and sets each one's outcome.
func (db *DB) fileIntakes(group []*intakeJob) {
	muni := group[0].actor.MunicipalityID
	ctx, cancel := context.WithTimeout(context.WithoutCancel(group[0].ctx), intakeGroupTimeout)
	defer cancel()
	sys := &fiscal.Actor{System: true, Username: "intake", MunicipalityID: muni}
	ctx = fiscal.WithIdempotencyClaim(fiscal.WithActor(ctx, sys), nil)
	// Each intake's statements run on the group's context (carrying the
	// intake's actor and claim): a request that times out or goes away
	// while its group is being filed must not cut the others' statements.
	jctx := make([]context.Context, len(group))
	for i, j := range group {
		jctx[i] = fiscal.WithIdempotencyClaim(fiscal.WithActor(ctx, j.actor), fiscal.IdempotencyClaimFrom(j.ctx))
	}
	pg := db.dialect == "postgres"
	var filed []*intakeJob
	var filedCtx []context.Context
	// On PostgreSQL a failed statement aborts the transaction: the group is
	// filed again without the intake whose statement failed (rare: its key
	// and documents are checked without failing, see insertCase). On SQLite
	// a savepoint per intake undoes its writes and the group goes on.
	pending, pendingCtx := group, jctx
	var err error
	for {
		failed := -1
		err = db.InTx(ctx, func(tx *Tx) error {
			filed, filedCtx, failed = filed[:0], filedCtx[:0], -1
			tx.keyCache = map[int64]*signingKey{}
			for _, j := range pending {
				j.c, j.out, j.claimRow, j.kept, j.err = nil, nil, 0, nil, nil
				if j.key != nil {
					tx.keyCache[j.keyUID] = j.key
				}
			}
			for i, j := range pending {
				tx.Actor, tx.claimRow = j.actor, 0
				var id int64
				var err error
				sp := fmt.Sprintf("intake_%d", i)
				if pg {
					id, err = j.write(pendingCtx[i], tx, unclaimed(pendingCtx[i]))
				} else {
					if len(pending) > 1 {
						if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
							return translate(err, "savepoint")
						}
					}
					if _, id, err = claimIdempotencyKey(pendingCtx[i], tx); err == nil {
						_, err = j.write(pendingCtx[i], tx, nil)
					}
				}
				if err != nil {
					if len(pending) == 1 || isRetryable(err) {
						return err
					}
					var ab abortedTx
					if errors.As(err, &ab) {
						j.err, failed = ab.error, i
						return err
					}
					if !pg {
						if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); rerr != nil {
							return translate(rerr, "savepoint")
						}
					}
					j.err = err // this request's own failure
					continue
				}
				j.claimRow = id
				filed, filedCtx = append(filed, j), append(filedCtx, pendingCtx[i])
			}
			tx.Actor, tx.claimRow = sys, 0
			if len(filed) == 0 {
				return nil
			}
			first, err := tx.nextCaseNumbers(ctx, muni, fiscal.LocalDate(tx.Now).Year, len(filed))
			if err != nil {
				return err
			}
			var writes []stmt
			for i, j := range filed {
				tx.Actor, tx.claimRow, tx.kept = j.actor, j.claimRow, nil
				w, e, err := j.finish(filedCtx[i], tx, first+int64(i), true)
				if err != nil {
					return err
				}
				j.kept = tx.kept
				writes = append(writes, w...)
				// In number order: the chain lists the cases as numbered.
				tx.audits = append(tx.audits, e)
			}
			tx.Actor, tx.claimRow, tx.kept = sys, 0, nil
			return tx.execAll(ctx, "case", writes...)
		})
		if failed < 0 || err == nil {
			break
		}
		// Again without the intake that failed (its error is its answer).
		pending = append(pending[:failed:failed], pending[failed+1:]...)
		pendingCtx = append(pendingCtx[:failed:failed], pendingCtx[failed+1:]...)
	}
	for _, j := range group {
		switch {
		case j.err != nil: // its own failure, before the group's commit
		case err != nil:
			j.err = err
		default:
			if c := fiscal.IdempotencyClaimFrom(j.ctx); c != nil {
				if j.claimRow != 0 {
					c.ID = j.claimRow
				}
				c.Kept = j.kept
			}
		}
	}
}
