package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

func readFull(r io.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }

func multiReader(head []byte, rest io.Reader) io.Reader {
	return io.MultiReader(bytes.NewReader(head), rest)
}

// signingKey is a row of signing_keys.
type signingKey struct {
	ID            int64  `db:"id"`
	UserID        *int64 `db:"user_id"`
	Algorithm     string `db:"algorithm"`
	PublicKey     string `db:"public_key"`
	SealedPrivate string `db:"sealed_private"`
	Certificate   string `db:"certificate"`
	// Read by VerifyCase only.
	RevokedAt        *time.Time `db:"revoked_at"`
	RevocationReason string     `db:"revocation_reason"`
}

// stepCols are the columns of a case step as fiscal.CaseStep reads them.
const stepCols = `seq, action, decision, from_status, to_status, actor_id, actor, actor_role, at, comment, state_json, prev_digest, digest, key_id, signature,
	step, on_behalf_of_id, on_behalf_of`

const keyQuery = `SELECT id, user_id, algorithm, public_key, sealed_private, certificate FROM signing_keys WHERE municipality_id = ? AND COALESCE(user_id, 0) = ? AND revoked_at IS NULL`

// keyFor returns the active signing key of a staff user, or the service's
// own key (userID nil), creating it on first use inside tx. With a vault
// that certifies (fiscal.CertVault), an Ed25519 key is superseded by a
// certified one; a user whose certificate was revoked gets no new key.
func (tx *Tx) keyFor(ctx context.Context, municipalityID int64, userID *int64) (*signingKey, error) {
	if tx.db.keys == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "the signing key vault is not configured")
	}
	cv := tx.db.certVault()
	uid := int64(0)
	if userID != nil {
		uid = *userID
	}
	if k, ok := tx.keyCache[uid]; ok && k.fits(cv) {
		return k, nil
	}
	var k signingKey
	err := tx.Get(ctx, &k, keyQuery, municipalityID, uid)
	if err == nil && k.fits(cv) {
		return &k, nil
	}
	if err == nil {
		if err := tx.supersedeKey(ctx, municipalityID, &k); err != nil {
			return nil, err
		}
	} else if fiscal.ErrorCode(translate(err, "")) != fiscal.ENOTFOUND {
		return nil, translate(err, "signing key")
	}
	if err := tx.refuseRevoked(ctx, municipalityID, userID); err != nil {
		return nil, err
	}
	var (
		alg, cert, serial string
		pub, sealed       []byte
	)
	if cv != nil {
		subject, err := tx.keySubject(ctx, municipalityID, userID)
		if err != nil {
			return nil, err
		}
		alg = fiscal.AlgCAdES
		pub, cert, serial, sealed, err = cv.NewCertifiedKey(subject, userID == nil, tx.Now)
		if err != nil {
			return nil, fiscal.Internal(err, "signing key")
		}
	} else if alg, pub, cert, sealed, err = tx.db.keys.NewKey(); err != nil {
		return nil, fiscal.Internal(err, "signing key")
	}
	// Two first uses at once: one insert wins, the other reads it.
	if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (municipality_id, user_id, algorithm, public_key, certificate, cert_serial, sealed_private, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, municipalityID, userID, alg, base64.StdEncoding.EncodeToString(pub), cert, serial,
		base64.StdEncoding.EncodeToString(sealed), tx.Now); err != nil {
		return nil, translate(err, "signing key")
	}
	if err := tx.Get(ctx, &k, keyQuery, municipalityID, uid); err != nil {
		return nil, translate(err, "signing key")
	}
	return &k, tx.Audit(ctx, municipalityID, "signing_key.create", "signing_key", k.ID, nil,
		map[string]any{"user_id": userID, "algorithm": k.Algorithm, "public_key": k.PublicKey, "cert_serial": serial})
}

// step records a signed step: the state the case is in (c.Status is the
// status acted on), chained to the previous step's digest and signed by the
// actor's key — staff sign with their own key; taxpayers' submissions and
// the system's steps are countersigned with the service's key.
func (tx *Tx) step(ctx context.Context, c *caseRow, atts []*fiscal.Attachment, st *fiscal.CaseStep) error {
	ins, err := tx.stepStmt(ctx, c, atts, st)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, ins.query, ins.args...)
	if isUniqueViolation(err) {
		return errCaseChanged()
	}
	if err == nil && c.steps != nil {
		c.steps = append(c.steps, st)
	}
	return translate(err, "case step")
}

// stepStmt signs st as step (its seq and link from c.steps when the use case
// read them, else from the database) and returns the statement that
// stores it.
func (tx *Tx) stepStmt(ctx context.Context, c *caseRow, atts []*fiscal.Attachment, st *fiscal.CaseStep) (stmt, error) {
	if st.Action != fiscal.ActionSubmit {
		if n := len(c.steps); n > 0 {
			st.Seq, st.PrevDigest = c.steps[n-1].Seq+1, c.steps[n-1].Digest
		} else {
			var last struct {
				Seq    int    `db:"seq"`
				Digest string `db:"digest"`
			}
			if err := tx.Get(ctx, &last, `SELECT seq, digest FROM case_steps WHERE case_id = ? ORDER BY seq DESC LIMIT 1`, c.ID); err != nil {
				return stmt{}, translate(err, "case steps")
			}
			st.Seq, st.PrevDigest = last.Seq+1, last.Digest
		}
	}
	k, err := tx.keyFor(ctx, c.MunicipalityID, tx.stepKeyUser())
	if err != nil {
		return stmt{}, err
	}
	return tx.signStep(c, atts, st, k)
}

// stepKeyUser is the user whose key signs tx's steps: the actor when staff,
// nil (the service's key) for taxpayers and the system.
func (tx *Tx) stepKeyUser() *int64 {
	if a := tx.Actor; a != nil && !a.System && a.Role.IsStaff() {
		id := a.UserID
		return &id
	}
	return nil
}

// signStep fills in st (the submission is step 1; a later step must come
// with its Seq and PrevDigest), signs it with k and returns the statement
// that stores it.
func (tx *Tx) signStep(c *caseRow, atts []*fiscal.Attachment, st *fiscal.CaseStep, k *signingKey) (stmt, error) {
	status := fiscal.CaseStatus(c.Status)
	if st.Action == fiscal.ActionSubmit {
		st.From, st.Seq, st.PrevDigest, status = "", 1, "", ""
	} else {
		st.From = fiscal.CaseStatus(c.Status)
	}
	state, err := fiscal.CanonicalState(&fiscal.CaseState{CaseID: c.ID, Number: c.Number, Type: c.Type, TaxpayerID: c.TaxpayerID,
		Data: json.RawMessage(c.Data), Status: status, Attachments: fiscal.AttachmentKeys(atts)})
	if err != nil {
		return stmt{}, fiscal.Internal(err, "case state")
	}
	st.At, st.Actor, st.ActorRole = tx.Now, "system", "system"
	if a := tx.Actor; a != nil && !a.System {
		id := a.UserID
		st.ActorID, st.Actor, st.ActorRole = &id, a.Username, string(a.Role)
	}
	sealed, err := base64.StdEncoding.DecodeString(k.SealedPrivate)
	if err != nil {
		return stmt{}, fiscal.Internal(err, "signing key")
	}
	st.State = state
	st.Digest = fiscal.StepDigest(st.PrevDigest, state, st)
	var sig []byte
	cms := ""
	if k.Algorithm == fiscal.AlgCAdES {
		// CAdES-B-T: signed, then timestamped by the TSA (in process: a
		// signature's cost, less than a second write of the step; a
		// remote TSA's round trip must not run here, where an intake
		// holds its municipality's case counter). If the TSA fails, the
		// step is written B-B and timestamped after the commit
		// (timestampSteps), else at the first read of its signature
		// (StepEvidence).
		cv := tx.db.certVault()
		if cv == nil {
			return stmt{}, fiscal.Errorf(fiscal.EUNAVAILABLE, "the certified key vault is not configured")
		}
		var p7s []byte
		if p7s, sig, err = cv.SignCAdES(sealed, k.Certificate, fiscal.StepContent(st.PrevDigest, state, st)); err != nil {
			return stmt{}, fiscal.Internal(err, "signature")
		}
		if bt, terr := cv.TimestampCAdES(p7s); terr == nil {
			cms = base64.StdEncoding.EncodeToString(bt)
		} else {
			cms = base64.StdEncoding.EncodeToString(p7s)
			tx.stampAfterCommit(c.ID, st.Seq, cms) // counted in timestampFailed if it fails again
		}
	} else {
		d, _ := hex.DecodeString(st.Digest)
		if sig, err = tx.db.keys.Sign(k.Algorithm, sealed, d); err != nil {
			return stmt{}, fiscal.Internal(err, "signature")
		}
	}
	st.KeyID, st.Signature = k.ID, base64.StdEncoding.EncodeToString(sig)
	return stmt{`INSERT INTO case_steps (municipality_id, case_id, seq, action, decision, from_status, to_status, actor_id, actor, actor_role, at, comment,
		state_json, prev_digest, digest, key_id, signature, cms, step, on_behalf_of_id, on_behalf_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		[]any{c.MunicipalityID, c.ID, st.Seq, st.Action, st.Decision, st.From, st.To, st.ActorID, st.Actor, st.ActorRole, st.At, st.Comment,
			st.State, st.PrevDigest, st.Digest, st.KeyID, st.Signature, cms, st.Step, st.OnBehalfOfID, st.OnBehalfOf}}, nil
}

// VerifyCase re-checks the whole chain of a case's steps: numbering, links,
// each digest over the stored state, each signature with the key of the
// actor, and the state against the case as stored. It names the first step
// that fails.
func (db *DB) VerifyCase(ctx context.Context, id int64) (*fiscal.Verification, error) {
	var out *fiscal.Verification
	err := db.readTx(ctx, func(tx *Tx) error {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		atts, err := tx.attachments(ctx, c.ID)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, k := range fiscal.AttachmentKeys(atts) {
			have[k] = true
		}
		var rows []struct {
			fiscal.CaseStep
			CMS string `db:"cms"`
		}
		if err := tx.Select(ctx, &rows, `SELECT `+stepCols+`, cms FROM case_steps WHERE case_id = ? ORDER BY seq`, c.ID); err != nil {
			return translate(err, "case steps")
		}
		steps := make([]*fiscal.CaseStep, len(rows))
		for i := range rows {
			steps[i] = &rows[i].CaseStep
		}
		var keys []signingKey
		if err := tx.Select(ctx, &keys, `SELECT id, user_id, algorithm, public_key, '' AS sealed_private, certificate, revoked_at, revocation_reason FROM signing_keys WHERE municipality_id = ?`, c.MunicipalityID); err != nil {
			return translate(err, "signing keys")
		}
		byID := map[int64]signingKey{}
		for _, k := range keys {
			byID[k.ID] = k
		}
		out = &fiscal.Verification{Valid: true, Steps: len(steps)}
		fail := func(seq int, reason string) {
			out.Valid, out.FirstInvalidStep, out.Reason = false, &seq, reason
		}
		prev, prevTo := "", fiscal.CaseStatus("")
		for i, st := range steps {
			var s fiscal.CaseState
			reason := ""
			switch {
			case st.Seq != i+1:
				reason = fmt.Sprintf("step number %d where %d was expected (a step is missing)", st.Seq, i+1)
			case st.PrevDigest != prev:
				reason = "does not link to the previous step"
			case json.Unmarshal([]byte(st.State), &s) != nil:
				reason = "its recorded state is unreadable"
			case s.CaseID != c.ID || s.Number != c.Number || s.Type != c.Type || s.TaxpayerID != c.TaxpayerID || !sameJSON(s.Data, c.Data):
				reason = "the case's data differ from what the step acted on"
			case st.From != prevTo || s.Status != st.From:
				reason = "its status does not follow the previous step"
			case !subset(s.Attachments, have):
				reason = "a document it acted on is no longer attached"
			case fiscal.StepDigest(st.PrevDigest, st.State, st) != st.Digest:
				reason = "its content does not match its digest (altered)"
			}
			if reason == "" {
				k, ok := byID[st.KeyID]
				staff := fiscal.Role(st.ActorRole).IsStaff()
				switch {
				case !ok:
					reason = "its signing key is unknown"
				case staff && (k.UserID == nil || st.ActorID == nil || *k.UserID != *st.ActorID):
					reason = "it is not signed with the key of its actor"
				case !staff && k.UserID != nil:
					reason = "it is not countersigned with the service's key"
				case k.Algorithm == fiscal.AlgCAdES:
					reason = db.verifyCAdESStep(st, rows[i].CMS, &k)
				case !fiscal.VerifyStepSignature(k.Algorithm, k.PublicKey, st.Digest, st.Signature):
					reason = "its signature does not verify"
				}
			}
			if reason != "" {
				fail(st.Seq, reason)
				return nil
			}
			prev, prevTo = st.Digest, st.To
		}
		if len(steps) == 0 {
			fail(1, "the case has no steps")
		} else if fiscal.CaseStatus(c.Status) != prevTo {
			fail(len(steps), "the case's status differs from its last step's")
		}
		return nil
	})
	return out, err
}

func sameJSON(a json.RawMessage, b string) bool {
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, []byte(b)) != nil {
		return false
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}

func subset(list []string, have map[string]bool) bool {
	for _, k := range list {
		if !have[k] {
			return false
		}
	}
	return true
}

// ownerKind returns the taxpayer's kind as the engine names it.
func (tx *Tx) ownerKind(ctx context.Context, taxpayerID int64) (string, error) {
	var k string
	err := tx.Get(ctx, &k, `SELECT kind FROM taxpayers WHERE id = ?`, taxpayerID)
	return k, translate(err, "taxpayer")
}

// taxFacts reads what the tax of a case's vehicle is computed with: the
// municipality's engine and slug and, with owner, the taxpayer's kind.
func (db *DB) taxFacts(ctx context.Context, tx *Tx, c *caseRow, owner bool) (fiscal.TaxFacts, error) {
	var tf fiscal.TaxFacts
	if owner {
		kind, err := tx.ownerKind(ctx, c.TaxpayerID)
		if err != nil {
			return tf, err
		}
		tf.OwnerKind = kind
	}
	m, err := tx.muni(ctx, c.MunicipalityID)
	if err != nil {
		return tf, err
	}
	e, err := db.TaxEngine(ctx, c.MunicipalityID)
	if err != nil {
		return tf, err
	}
	tf.Engine, tf.Municipality = e, m.Slug
	return tf, nil
}

// checks are the automatic checks of a case, shown to officers; all must
// pass for straight-through processing. The store reads the facts the case
// type names (fiscal.CaseType.CheckFacts) and fiscal.AutomaticChecks decides.
func (db *DB) checks(ctx context.Context, tx *Tx, c *caseRow, atts []*fiscal.Attachment) ([]fiscal.Check, *fiscal.AssessmentPreview, error) {
	t := c.caseType()
	f, err := t.CheckFacts(json.RawMessage(c.Data))
	if err != nil {
		return nil, nil, err
	}
	in := fiscal.CheckInput{Type: t, Data: json.RawMessage(c.Data), Attachments: kinds(atts), Facts: f}
	if f.VIN != "" {
		if err := tx.Get(ctx, &in.VINOwners, `SELECT COUNT(*) FROM vehicles WHERE municipality_id = ? AND vin = ? AND deregistered_on IS NULL`, c.MunicipalityID, f.VIN); err != nil {
			return nil, nil, translate(err, "vehicles")
		}
	}
	if f.Preview {
		tf, err := db.taxFacts(ctx, tx, c, true)
		if err != nil {
			return nil, nil, err
		}
		if in.Preview, err = fiscal.CasePreview(t, in.Data, tf, fiscal.LocalDate(tx.Now)); err != nil {
			return nil, nil, err
		}
	}
	if f.Property != nil {
		if in.Property, err = tx.propertyState(ctx, c, f.Property); err != nil {
			return nil, nil, err
		}
	}
	if f.Representation != nil {
		if in.Representation, err = tx.representationState(ctx, c, f.Representation); err != nil {
			return nil, nil, err
		}
	}
	if f.VehicleID != 0 {
		var active int
		if err := tx.Get(ctx, &active, `SELECT COUNT(*) FROM vehicles WHERE id = ? AND municipality_id = ? AND taxpayer_id = ? AND deregistered_on IS NULL`,
			f.VehicleID, c.MunicipalityID, c.TaxpayerID); err != nil {
			return nil, nil, translate(err, "vehicles")
		}
		in.VehicleActive = active == 1
		if f.DebtsUpToYear != 0 {
			if in.Outstanding, err = tx.vehicleOutstanding(ctx, c.MunicipalityID, f.VehicleID, f.DebtsUpToYear); err != nil {
				return nil, nil, err
			}
		}
	}
	return fiscal.AutomaticChecks(in), in.Preview, nil
}

// tryStraightThrough lets the system take the first step of a case waiting
// there (a single desk offering approve: the review of the shipped
// definitions) when its automatic checks all pass, with its assessment
// prepared, so that the next desk (the signer) decides it in one action.
// fiscal.StraightThrough decides; its callers call it where the
// municipality's settings turn straight-through processing on for the
// case's type (muniInfo.straightThrough).
func (db *DB) tryStraightThrough(ctx context.Context, tx *Tx, c *caseRow, atts []*fiscal.Attachment, cal *calendar.Calendar) error {
	const enabled = true // the callers read the setting
	t, status := c.caseType(), fiscal.CaseStatus(c.Status)
	if !fiscal.StraightThroughEligible(t, status, enabled) {
		return nil
	}
	d := c.def.def
	first, ok := d.FirstStep()
	if !ok || len(first.Roles) == 0 {
		return nil
	}
	h := c.hist // read by the caller (respond), or none yet (a new case)
	if h == nil {
		var err error
		if h, err = tx.routeHistory(ctx, c.ID); err != nil {
			return err
		}
	}
	r, err := h.replay(d)
	if err != nil {
		return err
	}
	if d.CurrentStep(r) != first.Name {
		return nil // the case is past its first step: a person decides
	}
	checks, preview, err := db.checks(ctx, tx, c, atts)
	if err != nil {
		return err
	}
	if !fiscal.StraightThrough(t, status, enabled, checks) {
		return nil
	}
	if d.Take(r, fiscal.RouteAct{Step: first.Name, Decision: fiscal.DecisionApprove}, first.Roles[0]) != nil || r.Outcome != "" {
		return nil // the first step does not approve, or approving it would decide the case: a person's decision
	}
	to := d.StatusAt(r)
	// The system acts for this step only.
	actor := tx.Actor
	tx.Actor = &fiscal.Actor{System: true, Username: "system", MunicipalityID: c.MunicipalityID}
	defer func() { tx.Actor = actor }()
	res, _ := json.Marshal(map[string]any{"prepared": preview, "checks": checks})
	c.Status, c.StraightThrough, c.Result = string(to), true, string(res)
	if at := d.CurrentStep(r); at != "" {
		c.moveTo = &routeMove{step: at, since: fiscal.LocalDate(tx.Now)}
	}
	if err := tx.updateCase(ctx, c); err != nil {
		return err
	}
	c.Status = string(status)
	act := fiscal.RouteAct{Step: first.Name, Decision: fiscal.DecisionApprove}
	st := &fiscal.CaseStep{Action: fiscal.StepAction(first.Name), Step: first.Name, Decision: fiscal.DecisionApprove, To: to,
		Comment: fiscal.StraightThroughComment}
	if err := tx.step(ctx, c, atts, st); err != nil {
		return err
	}
	h.took(act, st, tx.Now)
	c.Status, c.hist = string(to), h
	if err := tx.event(ctx, c, "straight_through", "every automatic check passed", false); err != nil {
		return err
	}
	return tx.Audit(ctx, c.MunicipalityID, "case.straight_through", "case", c.ID, nil, map[string]any{"status": c.Status})
}

// apply carries out an approved case in the signer's transaction: it reads
// the facts the case's type names, fiscal.PlanApproval decides what the
// approval does, and writeApproval writes the plan.
func (db *DB) apply(ctx context.Context, tx *Tx, c *caseRow, today civil.Date) error {
	t := c.caseType()
	in := fiscal.ApprovalInput{Type: t, TaxpayerID: c.TaxpayerID, Data: json.RawMessage(c.Data), Today: today}
	f, err := t.CheckFacts(in.Data)
	if err != nil {
		return err
	}
	in.Facts = f
	// A building's change taxes its co-owners anew: the engine is needed.
	if f.Preview || f.VehicleID != 0 || (f.Property != nil && f.Property.CoHoldings) {
		if in.Tax, err = db.taxFacts(ctx, tx, c, f.Preview); err != nil {
			return err
		}
	}
	if f.Property != nil {
		if in.Property, err = tx.propertyState(ctx, c, f.Property); err != nil {
			return err
		}
	}
	if f.Representation != nil {
		if in.Representation, err = tx.representationState(ctx, c, f.Representation); err != nil {
			return err
		}
	}
	if f.VehicleID != 0 {
		var row struct {
			fiscal.Vehicle
			Attributes string `db:"attributes"`
		}
		err := tx.Get(ctx, &row, `SELECT `+vehicleColumns+`, attributes FROM vehicles WHERE id = ? AND municipality_id = ? AND taxpayer_id = ? AND deregistered_on IS NULL`,
			f.VehicleID, c.MunicipalityID, c.TaxpayerID)
		if err = translate(err, "vehicle"); err != nil && fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			return err
		}
		if err == nil {
			veh := row.Vehicle
			// The same-year-sale tax is computed on these attributes: a value
			// that does not read stops the approval, never taxes an empty vehicle.
			if err := json.Unmarshal([]byte(row.Attributes), &veh.Object); err != nil {
				return fiscal.Internal(fmt.Errorf("vehicle %d: attributes: %w", f.VehicleID, err), "vehicle")
			}
			in.Vehicle = &veh
			if f.DebtsUpToYear != 0 {
				if in.Outstanding, err = tx.vehicleOutstanding(ctx, c.MunicipalityID, veh.ID, f.DebtsUpToYear); err != nil {
					return err
				}
			}
		}
	}
	plan, err := fiscal.PlanApproval(in)
	if err != nil {
		return err
	}
	return db.writeApproval(ctx, tx, c, plan)
}

// writeApproval writes an approval's plan in the signer's transaction and
// keeps what it wrote as the case's result.
func (db *DB) writeApproval(ctx context.Context, tx *Tx, c *caseRow, p *fiscal.ApprovalPlan) error {
	if p.Property != nil {
		return db.writeProperty(ctx, tx, c, p)
	}
	if p.Representation != nil {
		return db.writeRepresentation(ctx, tx, c, p.Representation)
	}
	var (
		vehicleID int64
		cancelled int64
		ids       []int64
		result    map[string]any
	)
	if v := p.Register; v != nil {
		if err := tx.InsertVehicle(ctx, c.MunicipalityID, v); err != nil {
			return err
		}
		vehicleID = v.ID
	}
	if d := p.Deregister; d != nil {
		vehicleID = d.VehicleID
		if _, err := tx.Exec(ctx, `UPDATE vehicles SET deregistered_on = ?, updated_at = ?, version = version + 1 WHERE id = ?`, d.On, tx.Now, d.VehicleID); err != nil {
			return translate(err, "vehicle")
		}
		res, err := tx.Exec(ctx, `UPDATE debts SET cancelled_at = ?, version = version + 1 WHERE municipality_id = ? AND object_id = ? AND tax_type = 'vehicle'
			AND year > ? AND cancelled_at IS NULL`, tx.Now, c.MunicipalityID, d.VehicleID, d.LastTaxedYear)
		if err != nil {
			return translate(err, "debts")
		}
		if cancelled, err = res.RowsAffected(); err != nil {
			return translate(err, "debts")
		}
	}
	for i := range p.Assessments {
		a := p.Assessments[i]
		a.ObjectID = vehicleID
		id, _, err := tx.RecordAssessment(ctx, c.MunicipalityID, &a)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	switch {
	case p.Register != nil:
		result = map[string]any{"vehicle_id": vehicleID, "taxed_from_year": p.Register.TaxedFromYear, "assessment_ids": ids}
	case p.Deregister != nil:
		d := p.Deregister
		result = map[string]any{"vehicle_id": vehicleID, "deregistered_on": d.On, "last_taxed_year": d.LastTaxedYear, "debts_cancelled": cancelled}
		if d.SameYearSale && len(ids) > 0 {
			result["same_year_sale_assessment_id"] = ids[0]
		}
		if err := tx.Audit(ctx, c.MunicipalityID, "vehicle.deregister", "vehicle", vehicleID, map[string]any{"deregistered_on": nil}, result); err != nil {
			return err
		}
	default:
		// A fiscal certificate is issued below (caseDocuments); a
		// petition's answer is the decision itself.
		result = map[string]any{"approved": true}
	}
	if err := db.caseDocuments(ctx, tx, c, p.Documents, vehicleID, ids, cancelled, result); err != nil {
		return err
	}
	b, _ := json.Marshal(result)
	c.Result = string(b)
	return nil
}

// AttachmentContent opens a document of a case visible to the actor.
func (db *DB) AttachmentContent(ctx context.Context, caseID, attachmentID int64) (*fiscal.Attachment, io.ReadCloser, error) {
	if db.blobs == nil {
		return nil, nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "attachment storage is not configured")
	}
	var att fiscal.Attachment
	err := db.readTx(ctx, func(tx *Tx) error {
		if _, err := tx.loadCase(ctx, caseID); err != nil {
			return err
		}
		return translate(tx.Get(ctx, &att, `SELECT id, case_id, kind, sha256, size, content_type, filename, created_at FROM case_attachments WHERE id = ? AND case_id = ?`,
			attachmentID, caseID), "attachment")
	})
	if err != nil {
		return nil, nil, err
	}
	rc, err := db.blobs.Open(ctx, att.SHA256)
	return &att, rc, err
}
