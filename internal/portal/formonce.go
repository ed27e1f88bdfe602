package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// Forms sent twice. Every portal form that changes stored data carries a
// one-time id: a hidden form_id ({{template "formonce" .}}, a new id each
// time a form is drawn; a declaration form keeps its id when it comes back
// with errors). The use case runs with that id claimed as an
// Idempotency-Key of the signed-in user (fiscal.IdempotencyClaim, route
// "portal POST <path>"): the store inserts the claim as the first statement
// of the use case's first write transaction, so the id is claimed exactly
// when the effect commits. A form sent again — a double click, the browser
// sending it again after a slow answer, the back button, HAProxy resending a
// request whose instance died mid-transaction (deploy/haproxy.cfg) — finds
// the id claimed, on any instance, and gets the first sending's answer (the
// same redirect and notice) instead of doing it twice. While the first
// sending is still running the second waits for it (formInFlightWait), then
// says so in the reader's language (409, "form.busy").
//
// The answer is kept with the id (formOutcome, JSON): in the effect's own
// transaction for the use cases that keep a reply (the cash payment, the
// card payment, the certificate: onceForm.kept), else just after it. If the
// instance stops between the two, the id is claimed without an answer: a
// form whose use case is one transaction answers onceForm.settled (its
// effect is the claim's transaction, so it is done); the card payment
// continues the same payment (onceForm.resumable, as the API's Resumable
// routes); the others say the form is still being processed.
//
// One answer cannot be given twice: an enrollment code is shown once (it is
// kept hashed), so the desk's form sent again issues no second code and
// leads to the taxpayer's enrollment page, which says so.
//
// The anonymous forms, registration and /enroll, carry a one-time id too,
// but there is no user to hold it as an Idempotency-Key: it is a
// fiscal.AnonymousFormClaim instead (anonOnce, internal/store/formclaims.go),
// claimed by the transaction that creates the account. A claimed id means
// the account exists, so a sending that finds it claimed is answered as the
// first one was: signed in on /account with "account.created" when the
// form's username and password sign in (through the API's sign-in, with its
// limits: the same person's double click ends where a single click does),
// else led to /login with "account.created_signin". That answer says no
// more to someone replaying another person's form id than that an account
// was opened with it: no name, no username. While the first sending's
// transaction is still open, the second one waits for it in the database
// (at most formInFlightWait), then is answered as above, or 409 "form.busy".
//
// Not covered, on purpose: signing in and out (a second sign-in opens one
// more session of the same person; a second sign-out finds no session left
// to end) and the language switch (a GET link that sets a cookie).

// formIDLen is the length of a form id (16 random bytes in hex).
const formIDLen = 32

func validFormID(id string) bool {
	if len(id) != formIDLen {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// formID is the id of the form being rendered: the submitted one when the
// form comes back with errors, else a new one.
func formID(c *fiber.Ctx) string {
	if id := c.FormValue("form_id"); validFormID(id) {
		return strings.Clone(id)
	}
	return newFormID()
}

// newFormID is a new one-time form id.
func newFormID() string {
	var b [formIDLen / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewFormID is a new one-time id for a form drawn on the page (the
// "formonce" template): each form gets its own.
func (v *view) NewFormID() string { return newFormID() }

// formClaim is the claim of the form's one-time id by the signed-in user;
// nil when there is nothing to claim with (no idempotency store, no valid
// form_id, nobody signed in): the form then runs as it is.
func (p *Portal) formClaim(c *fiber.Ctx, v *view) *fiscal.IdempotencyClaim {
	id := c.FormValue("form_id")
	if p.deps.Idempotency == nil || !validFormID(id) || v.Actor == nil {
		return nil
	}
	return &fiscal.IdempotencyClaim{MunicipalityID: v.Actor.MunicipalityID, UserID: v.Actor.UserID,
		Key: "portal-form:" + id, Route: "portal POST " + c.Path(), RequestHash: "form"}
}

// errFormBusy and errFormFailed mark the answers to a form sent again
// whose first sending is still running (or lost its answer), or failed
// after its effect began; renderError shows them in the reader's language
// ("form.busy", "form.failed").
var (
	errFormBusy   = errors.New("portal: the form's first sending is still being processed")
	errFormFailed = errors.New("portal: the form's first sending failed")
)

func formBusy() error {
	return &fiscal.Error{Code: fiscal.ECONFLICT, Err: errFormBusy,
		Message: "this form was already sent and is still being processed: open the page again in a moment to see its result"}
}

func formFailed() error {
	return &fiscal.Error{Code: fiscal.ECONFLICT, Err: errFormFailed,
		Message: "this form was already sent and that sending failed: open the page again"}
}

// formInFlightWait is how long a second sending waits for the first one's
// answer before it gives up (the page then answers 409 "form.busy").
const formInFlightWait = 5 * time.Second

// testInFlightWait, when not zero, replaces formInFlightWait (a test's
// shorter wait, export_test.go).
var testInFlightWait atomic.Int64

func inFlightWait() time.Duration {
	if d := testInFlightWait.Load(); d != 0 {
		return time.Duration(d)
	}
	return formInFlightWait
}

// formWait looks up the form's id: the answer kept by the sending that
// claimed it; or nil and the claim's id when it is claimed without an
// answer still after wait (the first sending still running, or stopped
// before it recorded its answer); nil and 0 when no sending claimed it.
func (p *Portal) formWait(ctx context.Context, claim *fiscal.IdempotencyClaim, wait time.Duration) (*fiscal.StoredResponse, int64, error) {
	deadline := time.Now().Add(wait)
	for {
		replay, claimed, err := p.deps.Idempotency.LookupIdempotencyKey(ctx, claim.MunicipalityID, claim.UserID, claim.Key, claim.Route, claim.RequestHash)
		if err != nil || replay != nil || claimed == 0 || !time.Now().Before(deadline) {
			return replay, claimed, err
		}
		select { // the other sending is still running
		case <-ctx.Done():
			return nil, 0, fiscal.Errorf(fiscal.EUNAVAILABLE, "the request was cancelled")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// formReplay waits for the result (an id, kept as the claim's reply) of
// a sending of the form that claimed its id first: ok false when no sending
// has claimed it; formBusy when the first sending is still running after
// formInFlightWait.
func (p *Portal) formReplay(ctx context.Context, claim *fiscal.IdempotencyClaim) (int64, bool, error) {
	replay, claimed, err := p.formWait(ctx, claim, inFlightWait())
	switch {
	case err != nil:
		return 0, false, err
	case replay != nil:
		id, perr := strconv.ParseInt(string(replay.Body), 10, 64)
		if perr != nil {
			return 0, false, fiscal.Internal(perr, "form already sent")
		}
		return id, true, nil
	case claimed != 0:
		return 0, false, formBusy()
	}
	return 0, false, nil
}

// filedOnce runs file (the intake) under the form's one-time id. When the
// form was already filed it returns that case's id instead of filing again
// (waiting for a first sending still in progress), and again true.
func (p *Portal) filedOnce(c *fiber.Ctx, v *view, file func(ctx context.Context) (*fiscal.Case, error)) (*fiscal.Case, bool, error) {
	ctx := c.UserContext()
	claim := p.formClaim(c, v)
	if claim == nil {
		cs, err := file(ctx)
		return cs, false, err
	}
	// The filed case's id is kept with the case, in its transaction.
	claim.Reply = func(result any) (*fiscal.StoredResponse, error) {
		cs, ok := result.(*fiscal.Case)
		if !ok {
			return nil, fmt.Errorf("portal: a form's reply is a case, not %T", result)
		}
		return &fiscal.StoredResponse{Status: fiber.StatusSeeOther, ContentType: "text/plain", Body: []byte(strconv.FormatInt(cs.ID, 10))}, nil
	}
	// filed waits for the case of a sending that took the id first; ok
	// false when no sending has taken it.
	filed := func() (*fiscal.Case, bool, error) {
		caseID, ok, err := p.formReplay(ctx, claim)
		if !ok || err != nil {
			return nil, ok, err
		}
		return &fiscal.Case{ID: caseID}, true, nil
	}
	if cs, ok, err := filed(); ok || err != nil {
		return cs, ok, err
	}
	cs, err := file(fiscal.WithIdempotencyClaim(ctx, claim))
	if fiscal.ErrorCode(err) == fiscal.ECONFLICT && claim.ID == 0 {
		// Two sendings at once: the other one claimed the id first (or
		// the conflict is the case's own, and the id is still free).
		if other, ok, ferr := filed(); ok || ferr != nil {
			return other, ok, ferr
		}
	}
	if err != nil || claim.ID == 0 || claim.Kept != nil {
		return cs, false, err
	}
	if err := p.deps.Idempotency.FinishIdempotencyKey(context.WithoutCancel(ctx), claim.ID, fiber.StatusSeeOther, "text/plain",
		[]byte(strconv.FormatInt(cs.ID, 10))); err != nil {
		p.log.Warn("portal: the filed form was not recorded", "case", cs.ID, "err", err.Error())
	}
	return cs, false, nil
}

// formOutcome is the answer to a form's first sending, kept with its
// one-time id and given again to a sending of the same form.
type formOutcome struct {
	// To is where the answer leads (303 See Other); Flash is the notice
	// shown there.
	To    string `json:"to,omitempty"`
	Flash string `json:"flash,omitempty"`
	// Payment is the card payment the pay form started, with its client
	// secret: the card page is drawn again for it (pages_pay.go).
	Payment *fiscal.Payment `json:"payment,omitempty"`
	// Failed: the first sending failed after its effect had begun (the
	// id is spent; the form is opened again).
	Failed bool `json:"failed,omitempty"`
}

// response is the outcome as the claim's kept reply.
func (o formOutcome) response() (*fiscal.StoredResponse, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	status := fiber.StatusSeeOther
	if o.Failed {
		status = fiber.StatusConflict
	}
	return &fiscal.StoredResponse{Status: status, ContentType: fiber.MIMEApplicationJSON, Body: b}, nil
}

// onceForm says how a form's use case is kept to one effect (p.once).
type onceForm struct {
	// kept, for a use case that keeps its reply in the transaction that
	// completes it (Tx.keepReply: the cash payment, the card payment, the
	// certificate), renders its result as the outcome, which then commits
	// with the effect.
	kept func(result any) (formOutcome, error)
	// settled, for a use case whose first write transaction is its whole
	// effect, answers a sending that finds the id claimed without an
	// outcome: the effect committed with the claim, and the first sending
	// has not recorded its answer yet (or its instance stopped before it
	// did). Nil: wait for the answer, then say the form is still being
	// processed.
	settled *formOutcome
	// resumable: the id claimed without an outcome is an operation with
	// the card processor whose outcome is unknown; a sending again, after
	// the wait, continues it (the same payment under the same Stripe key),
	// and a server error after the claim leaves it to be continued.
	resumable bool
}

// once runs a form's use case (run, with the context to give the use case
// alone: a page read with it would take the claim) under the form's
// one-time id, and returns its outcome; again is true when it is the
// outcome of an earlier sending of the same form, which is given instead of
// running it twice. Errors are the use case's (not claimed: the form comes
// back with them), formBusy or formFailed.
func (p *Portal) once(c *fiber.Ctx, v *view, f onceForm, run func(ctx context.Context) (formOutcome, error)) (out formOutcome, again bool, err error) {
	ctx := c.UserContext()
	claim := p.formClaim(c, v)
	if claim == nil {
		out, err = run(ctx)
		return out, false, err
	}
	if f.kept != nil {
		claim.Reply = func(result any) (*fiscal.StoredResponse, error) {
			o, err := f.kept(result)
			if err != nil {
				return nil, err
			}
			return o.response()
		}
	}
	out, open, done, err := p.formSent(ctx, claim, f)
	if done || err != nil {
		return out, done, err
	}
	if open != 0 { // continue the first sending's operation
		claim.ID, claim.Resumed = open, true
	}
	out, err = run(fiscal.WithIdempotencyClaim(ctx, claim))
	if err != nil && claim.ID == 0 {
		// Nothing claimed. Another sending may have claimed the id
		// meanwhile: the claim's unique key, or the state its effect left,
		// refused this one.
		if o, open, done, ferr := p.formSent(ctx, claim, f); done || ferr != nil {
			return o, done, ferr
		} else if open != 0 {
			return formOutcome{}, false, formBusy()
		}
		return out, false, err
	}
	if claim.ID == 0 || claim.Kept != nil {
		// No write (nothing to keep), or the outcome kept with the effect.
		return out, false, err
	}
	if err != nil {
		if f.resumable && web.HTTPStatus(err) >= fiber.StatusInternalServerError {
			return out, false, err // the claim stays open: sending the form again continues it
		}
		out = formOutcome{Failed: true}
	}
	if r, rerr := out.response(); rerr != nil {
		p.log.Warn("portal: the form's answer was not recorded", "err", rerr.Error())
	} else if ferr := p.deps.Idempotency.FinishIdempotencyKey(context.WithoutCancel(ctx), claim.ID, r.Status, r.ContentType, r.Body); ferr != nil {
		p.log.Warn("portal: the form's answer was not recorded", "err", ferr.Error())
	}
	if err != nil {
		return formOutcome{}, false, err
	}
	return out, false, nil
}

// formSent looks for an earlier sending of the form: done with its
// outcome; open with the claim's id when it is claimed without an outcome
// after the wait and the use case can be continued (f.resumable); neither
// when no sending claimed it. formBusy when the first sending is still
// running after formInFlightWait, formFailed when it failed.
func (p *Portal) formSent(ctx context.Context, claim *fiscal.IdempotencyClaim, f onceForm) (out formOutcome, open int64, done bool, err error) {
	wait := inFlightWait()
	if f.settled != nil {
		wait = 0 // a claim is the whole effect: no need to wait
	}
	replay, claimed, err := p.formWait(ctx, claim, wait)
	switch {
	case err != nil:
		return out, 0, false, err
	case replay != nil:
		if err := json.Unmarshal(replay.Body, &out); err != nil {
			return out, 0, false, fiscal.Internal(err, "form already sent")
		}
		if out.Failed {
			return formOutcome{}, 0, false, formFailed()
		}
		return out, 0, true, nil
	case claimed == 0:
		return out, 0, false, nil
	case f.settled != nil:
		return *f.settled, 0, true, nil
	case f.resumable:
		return out, claimed, false, nil
	}
	return out, 0, false, formBusy()
}

// onceTo runs a form's use case whose answer is known before it runs (a
// redirect and its notice) and whose first write transaction is its whole
// effect (settled), under the form's one-time id.
func (p *Portal) onceTo(c *fiber.Ctx, v *view, to formOutcome, run func(ctx context.Context) error) (formOutcome, error) {
	out, _, err := p.once(c, v, onceForm{settled: &to}, func(ctx context.Context) (formOutcome, error) {
		return to, run(ctx)
	})
	return out, err
}

// anonOnce runs the use case of an anonymous form (run: Register or
// Enroll, with the context to give it) under the form's one-time id, and
// says whether another sending of the same form already opened the
// account (again: run was not, or changed nothing). Without a valid
// form_id the form runs as it is. formBusy when the other sending's
// transaction is still open after formInFlightWait.
func (p *Portal) anonOnce(c *fiber.Ctx, v *view, run func(ctx context.Context) error) (again bool, err error) {
	ctx := c.UserContext()
	id := c.FormValue("form_id")
	if p.deps.Idempotency == nil || !validFormID(id) {
		return false, run(ctx)
	}
	claim := &fiscal.AnonymousFormClaim{Form: strings.Clone(c.Path()), Key: strings.Clone(id), Wait: inFlightWait()}
	claimed := func() (bool, error) {
		return p.deps.Idempotency.AnonymousFormClaimed(ctx, v.Muni.ID, claim.Form, claim.Key)
	}
	if done, err := claimed(); done || err != nil {
		return done, err
	}
	err = run(fiscal.WithAnonymousFormClaim(ctx, claim))
	if err == nil {
		return false, nil
	}
	// Refused: the claim was undone with the account. Another sending may
	// have opened it meanwhile — its claim refused this one, or the state it
	// left did (the username taken, the code spent).
	if done, cerr := claimed(); done || cerr != nil {
		return done, cerr
	}
	if errors.Is(err, fiscal.ErrFormSentBefore) {
		return false, formBusy() // its transaction is still open
	}
	return false, err
}

// signedUp answers an account opened by an anonymous form (registration,
// enrollment): signed in on /account. A sending again (anonOnce's again)
// signs in with the form's username and password through the API's
// sign-in, with its limits and counters, as /login would; when they do not
// sign in (a form id replayed by someone else), it leads to /login with a
// notice that names nobody.
func (p *Portal) signedUp(c *fiber.Ctx, v *view, again bool, username, password string) error {
	var sess *fiscal.Session
	var err error
	if again {
		sess, err = p.api.SignIn(c, v.Muni, username, password)
		if code := fiscal.ErrorCode(err); code == fiscal.EUNAUTHORIZED || code == fiscal.ERATELIMIT {
			return p.answer(c, formOutcome{To: "/login", Flash: "account.created_signin"})
		}
	} else {
		sess, err = p.deps.Users.Login(c.UserContext(), v.Muni.ID, username, password)
	}
	if err != nil {
		return err
	}
	p.startSession(c, sess)
	return p.answer(c, formOutcome{To: "/account", Flash: "account.created"})
}

// answer sends the browser where a form's outcome leads, with its notice.
func (p *Portal) answer(c *fiber.Ctx, out formOutcome) error {
	if out.Flash != "" {
		p.setFlash(c, out.Flash)
	}
	return c.Redirect(out.To, fiber.StatusSeeOther)
}

// sentBefore says err answers a form sent again (formBusy, formFailed): a
// page of its own, never an error next to a field of the form.
func sentBefore(err error) bool {
	return errors.Is(err, errFormBusy) || errors.Is(err, errFormFailed)
}
