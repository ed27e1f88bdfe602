package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/testroeid"
)

// CaseStore is what the demo's cases in progress need (implemented by
// *store.DB): the case workflow as the API calls it, the Idempotency-Key
// records that make filing them once, and the look-ups of the accounts and
// the taxpayers the stories are about.
type CaseStore interface {
	CreateCase(ctx context.Context, in *fiscal.NewCase) (*fiscal.Case, error)
	AddAttachment(ctx context.Context, caseID int64, up *fiscal.Upload) (*fiscal.Attachment, error)
	Case(ctx context.Context, id int64) (*fiscal.CaseDetail, error)
	Review(ctx context.Context, id int64, d *fiscal.Decision) (*fiscal.CaseDetail, error)
	Sign(ctx context.Context, id int64, d *fiscal.Decision) (*fiscal.CaseDetail, error)
	LookupIdempotencyKey(ctx context.Context, municipalityID, userID int64, key, route, requestHash string) (*fiscal.StoredResponse, int64, error)
	UserByUsername(ctx context.Context, username string) (*fiscal.User, error)
	FindTaxpayers(ctx context.Context, f fiscal.TaxpayerFilter) ([]*fiscal.Taxpayer, int, error)
}

// The demo's staff accounts the stories go through (cmd/fiscald creates
// them, README lists them): the officer who reviews and takes requests at
// the counter, and the head of service who signs.
const (
	Officer = "ioana"
	Signer  = "dan"
)

// CaseStory is one case of the demo, taken as far as Until through the
// workflow's own steps: filed by Filer (the taxpayer's own account, or the
// officer at the counter) for the taxpayer of the account Holder or of the
// CNP, with the document Document attached, reviewed by the officer, signed
// by the signer.
type CaseStory struct {
	// Key is the Idempotency-Key the filing is sent with (under Filer's
	// account): a restart, or a second instance, finds the case it filed.
	Key      string
	Filer    string
	Holder   string // the taxpayer of this account, or
	CNP      string // the taxpayer with this CNP
	Type     string
	Data     any
	Document string // the kind of the document attached ("" none)
	Until    fiscal.CaseStatus
	Review   string // the officer's comment
	Sign     string // the signer's comment
}

// CaseStories are the demo's cases in progress: ana (who signs in with a
// password) and Stan Gheorghe (who signs in with the test ROeID) each have
// an approved fiscal certificate to download, a certificate reviewed and
// waiting for the signer, and a petition waiting for the officer.
var CaseStories = []CaseStory{
	{Key: "demo-ana-certificate-car-sale", Filer: Ana.Username, Holder: Ana.Username, Type: fiscal.CaseFiscalCertificate,
		Data: map[string]string{"purpose": "vânzarea autoturismului (pentru notar)"}, Document: "holder_id", Until: fiscal.StatusApproved,
		Review: "Actul de identitate corespunde titularului; certificatul arată și obligațiile restante.", Sign: "Aprobat."},
	{Key: "demo-ana-certificate-mortgage", Filer: Ana.Username, Holder: Ana.Username, Type: fiscal.CaseFiscalCertificate,
		Data: map[string]string{"purpose": "dosarul de credit ipotecar la bancă"}, Document: "holder_id", Until: fiscal.StatusReviewed,
		Review: "Documentele sunt complete; de semnat."},
	{Key: "demo-ana-petition-installments", Filer: Ana.Username, Holder: Ana.Username, Type: fiscal.CasePetition,
		Data: map[string]string{"subject": "Plata în rate a datoriilor din 2025",
			"body": "Bună ziua,\nvă rog să îmi aprobați plata în trei rate lunare a impozitului pe apartament și pe autoturism rămas neplătit din 2025, cu majorările aferente.\nMulțumesc,\nAna Popescu"},
		Until: fiscal.StatusSubmitted},
	{Key: "demo-roeid-certificate-inheritance", Filer: Officer, CNP: testroeid.DemoRegistered.CNP, Type: fiscal.CaseFiscalCertificate,
		Data: map[string]string{"purpose": "dezbaterea succesiunii (la notar)"}, Document: "holder_id", Until: fiscal.StatusApproved,
		Review: "Depus la ghișeu; actul de identitate verificat.", Sign: "Aprobat."},
	{Key: "demo-roeid-certificate-tender", Filer: Officer, CNP: testroeid.DemoRegistered.CNP, Type: fiscal.CaseFiscalCertificate,
		Data: map[string]string{"purpose": "participarea la o licitație publică"}, Document: "holder_id", Until: fiscal.StatusReviewed,
		Review: "Depus la ghișeu; documentele sunt complete, de semnat."},
	{Key: "demo-roeid-petition-address", Filer: Officer, CNP: testroeid.DemoRegistered.CNP, Type: fiscal.CasePetition,
		Data: map[string]string{"subject": "Schimbarea adresei de corespondență",
			"body": "Depusă la ghișeu: contribuabilul cere ca deciziile de impunere să îi fie trimise la noua adresă de corespondență, Str. Gheorghe Lazăr 12, Timișoara."},
		Until: fiscal.StatusSubmitted},
}

// caseRoute is the route the demo's filings are claimed under.
const caseRoute = "demo POST /api/v1/cases"

// SeedCases takes every story of CaseStories to its status: filed once
// (under its Idempotency-Key), then reviewed and signed by the demo's staff
// as they would through the API. A story whose taxpayer or accounts are not
// there (no test ROeID person, no demo staff) is left out; a case someone
// took further, or elsewhere, is left alone. A restart reads and writes
// nothing; two instances at once file each case once and whichever comes
// second to a step finds it taken. ctx carries a system actor. It returns
// the cases it filed now.
func SeedCases(ctx context.Context, st CaseStore, municipalityID int64) ([]*fiscal.Case, error) {
	var filed []*fiscal.Case
	actors := map[string]*fiscal.Actor{}
	actor := func(username string) (*fiscal.Actor, error) {
		if a, ok := actors[username]; ok {
			return a, nil
		}
		u, err := st.UserByUsername(ctx, username)
		if fiscal.ErrorCode(err) == fiscal.ENOTFOUND || err == nil && u.Disabled {
			actors[username] = nil
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		a := &fiscal.Actor{UserID: u.ID, Username: u.Username, MunicipalityID: municipalityID, Role: u.Role, TaxpayerID: u.TaxpayerID, Assurance: u.Assurance}
		actors[username] = a
		return a, nil
	}
	for _, s := range CaseStories {
		filer, err := actor(s.Filer)
		if err != nil {
			return filed, err
		}
		officer, err := actor(Officer)
		if err != nil {
			return filed, err
		}
		signer, err := actor(Signer)
		if err != nil {
			return filed, err
		}
		if filer == nil || officer == nil || signer == nil {
			continue
		}
		var taxpayerID int64
		if s.Holder != "" {
			h, err := actor(s.Holder)
			if err != nil {
				return filed, err
			}
			if h == nil || h.TaxpayerID == nil {
				continue
			}
			taxpayerID = *h.TaxpayerID
		} else {
			found, _, err := st.FindTaxpayers(ctx, fiscal.TaxpayerFilter{Q: s.CNP, Limit: 2})
			if err != nil {
				return filed, err
			}
			for _, t := range found {
				if t.CNP != nil && *t.CNP == s.CNP {
					taxpayerID = t.ID
				}
			}
			if taxpayerID == 0 {
				continue
			}
		}
		id, c, err := fileStory(ctx, st, &s, filer, taxpayerID)
		if err != nil {
			return filed, fmt.Errorf("demo case %s: %w", s.Key, err)
		}
		if c != nil {
			filed = append(filed, c)
		}
		if err := advanceStory(ctx, st, &s, id, filer, officer, signer); err != nil {
			return filed, fmt.Errorf("demo case %s: %w", s.Key, err)
		}
	}
	return filed, nil
}

// storyReply is the response kept with a story's claim: the case filed.
type storyReply struct {
	ID     int64  `json:"id"`
	Number string `json:"number"`
}

// fileStory files the story's case under its Idempotency-Key and returns
// its id and the case; or finds the case filed under the key before (by this
// or another instance) and returns its id alone.
func fileStory(ctx context.Context, st CaseStore, s *CaseStory, filer *fiscal.Actor, taxpayerID int64) (int64, *fiscal.Case, error) {
	data, err := json.Marshal(s.Data)
	if err != nil {
		return 0, nil, err
	}
	in := &fiscal.NewCase{Type: s.Type, TaxpayerID: taxpayerID, Data: data}
	body, err := json.Marshal(in)
	if err != nil {
		return 0, nil, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	for attempt := 0; ; attempt++ {
		stored, claimed, err := st.LookupIdempotencyKey(ctx, filer.MunicipalityID, filer.UserID, s.Key, caseRoute, hash)
		if err != nil {
			return 0, nil, err
		}
		if stored != nil {
			var r storyReply
			if err := json.Unmarshal(stored.Body, &r); err != nil || r.ID == 0 {
				return 0, nil, fmt.Errorf("the reply kept under %s does not read: %q", s.Key, stored.Body)
			}
			return r.ID, nil, nil
		}
		if claimed == 0 {
			claim := &fiscal.IdempotencyClaim{MunicipalityID: filer.MunicipalityID, UserID: filer.UserID, Key: s.Key, Route: caseRoute, RequestHash: hash,
				Reply: func(v any) (*fiscal.StoredResponse, error) {
					c, ok := v.(*fiscal.Case)
					if !ok {
						return nil, fmt.Errorf("the intake's reply is %T, not a case", v)
					}
					b, err := json.Marshal(storyReply{ID: c.ID, Number: c.Number})
					return &fiscal.StoredResponse{Status: http.StatusCreated, ContentType: "application/json", Body: b}, err
				}}
			c, err := st.CreateCase(fiscal.WithIdempotencyClaim(fiscal.WithActor(ctx, filer), claim), in)
			if err == nil {
				return c.ID, c, nil
			}
			if fiscal.ErrorCode(err) != fiscal.ECONFLICT {
				return 0, nil, err
			}
		}
		// Another instance is filing it now: its reply comes with its commit.
		if attempt == 100 {
			return 0, nil, fiscal.ErrIdempotencyInFlight
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, nil, err
		}
	}
}

// advanceStory takes the case to the story's status, a step at a time as
// the API would: the document, the officer's review, the signer's approval.
// Each step names the revision it was decided on, so of two instances at
// the same step one carries it out and the other (ECONFLICT) reads the case
// again and finds it done. A case in any other state (rejected, waiting for
// the taxpayer, decided by a person meanwhile) is left as it is.
func advanceStory(ctx context.Context, st CaseStore, s *CaseStory, id int64, filer, officer, signer *fiscal.Actor) error {
	staff := fiscal.WithActor(ctx, officer)
	for attempt := 0; attempt < 20; attempt++ {
		d, err := st.Case(staff, id)
		if err != nil {
			return err
		}
		var step error
		switch {
		case d.Status == fiscal.StatusSubmitted && s.Document != "" && !hasDocument(d.Attachments, s.Document):
			doc := demoDocument(s)
			_, step = st.AddAttachment(fiscal.WithActor(ctx, filer), id, &fiscal.Upload{Kind: s.Document, Filename: s.Document + ".pdf",
				Size: int64(len(doc)), Content: bytes.NewReader(doc)})
		case d.Status == s.Until:
			return nil
		case d.Status == fiscal.StatusSubmitted:
			_, step = st.Review(staff, id, &fiscal.Decision{Decision: fiscal.DecisionApprove, Comment: s.Review, Version: d.Version})
		case d.Status == fiscal.StatusReviewed && s.Until == fiscal.StatusApproved:
			_, step = st.Sign(fiscal.WithActor(ctx, signer), id, &fiscal.Decision{Decision: fiscal.DecisionApprove, Comment: s.Sign, Version: d.Version})
		default:
			return nil
		}
		if step != nil {
			if fiscal.ErrorCode(step) != fiscal.ECONFLICT {
				return step
			}
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("case %d did not reach %s", id, s.Until)
}

func hasDocument(atts []*fiscal.Attachment, kind string) bool {
	for _, a := range atts {
		if a.Kind == kind {
			return true
		}
	}
	return false
}

// demoDocument is the scanned document a story's taxpayer gives: a
// one-page PDF saying what it stands for.
func demoDocument(s *CaseStory) []byte {
	text := "DEMO - act de identitate al titularului (" + s.Key + ")"
	stream := "BT /F1 14 Tf 72 760 Td (" + text + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
