package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// A declaration form carries a one-time id (a hidden form_id, kept when the
// form comes back with errors). The case is filed with that id claimed as
// an Idempotency-Key of the taxpayer, in the intake's own transaction, so a
// form sent twice — a double click, the browser sending it again after a
// slow answer, the back button — files one case, and the second answer
// leads to it.

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

// formReplay waits for the result (an id, kept as the claim's reply) of
// a sending of the form that claimed its id first: ok false when no sending
// has claimed it; EUNAVAILABLE with busy when the first sending is still
// running after formInFlightWait.
func (p *Portal) formReplay(ctx context.Context, claim *fiscal.IdempotencyClaim, busy string) (int64, bool, error) {
	deadline := time.Now().Add(formInFlightWait)
	for {
		replay, claimed, err := p.deps.Idempotency.LookupIdempotencyKey(ctx, claim.MunicipalityID, claim.UserID, claim.Key, claim.Route, claim.RequestHash)
		switch {
		case err != nil:
			return 0, false, err
		case replay != nil:
			id, perr := strconv.ParseInt(string(replay.Body), 10, 64)
			if perr != nil {
				return 0, false, fiscal.Internal(perr, "form already sent")
			}
			return id, true, nil
		case claimed == 0:
			return 0, false, nil
		case time.Now().After(deadline):
			return 0, false, fiscal.Errorf(fiscal.EUNAVAILABLE, "%s", busy)
		}
		select { // the other sending is still running
		case <-ctx.Done():
			return 0, false, fiscal.Errorf(fiscal.EUNAVAILABLE, "the request was cancelled")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// formInFlightWait is how long a second sending waits for the first one's
// case before it gives up (the page then answers 409 with the store's
// "in progress" message).
const formInFlightWait = 5 * time.Second

// filedOnce runs file (the intake) under the form's one-time id. When the
// form was already filed it returns that case's id instead of filing again
// (waiting for a first sending still in progress), and again true.
func (p *Portal) filedOnce(c *fiber.Ctx, v *view, file func(ctx context.Context) (*fiscal.Case, error)) (*fiscal.Case, bool, error) {
	ctx := c.UserContext()
	id := c.FormValue("form_id")
	if p.deps.Idempotency == nil || !validFormID(id) || v.Actor == nil {
		cs, err := file(ctx)
		return cs, false, err
	}
	claim := &fiscal.IdempotencyClaim{MunicipalityID: v.Actor.MunicipalityID, UserID: v.Actor.UserID,
		Key: "portal-form:" + id, Route: "portal POST " + c.Path(), RequestHash: "form",
		// The filed case's id is kept with the case, in its transaction.
		Reply: func(result any) (*fiscal.StoredResponse, error) {
			cs, ok := result.(*fiscal.Case)
			if !ok {
				return nil, fmt.Errorf("portal: a form's reply is a case, not %T", result)
			}
			return &fiscal.StoredResponse{Status: fiber.StatusSeeOther, ContentType: "text/plain", Body: []byte(strconv.FormatInt(cs.ID, 10))}, nil
		}}
	// filed waits for the case of a sending that took the id first; ok
	// false when no sending has taken it.
	filed := func() (*fiscal.Case, bool, error) {
		caseID, ok, err := p.formReplay(ctx, claim, "the form is still being filed: open your cases in a moment")
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
