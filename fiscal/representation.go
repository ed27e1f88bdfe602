package fiscal

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"fiscald/internal/civil"
)

// A company represented by a person (issue 19): the person (a verified
// account) files a representation request naming the company by CUI, with
// the mandate; an officer reviews it and a signer approves it, which links
// the person's account to the company (representations, migration 0026).
// The person may then act for the company in a session (ActFor): the
// session's actor has the company as its TaxpayerID, so every ownership
// check applies to the company unchanged.

// CaseRepresentation is the case type of a representation request.
const CaseRepresentation = "representation"

// The roles of a representative.
const (
	// RepresentativeAdministrator: the company's administrator (legal
	// representative, as the trade registry's extract names them).
	RepresentativeAdministrator = "administrator"
	// RepresentativeEmpowered: a person empowered by the company's mandate
	// (împuternicire).
	RepresentativeEmpowered = "empowered"
)

// RepresentationRequest is the form of a representation request.
type RepresentationRequest struct {
	CUI  string `json:"cui"`
	Role string `json:"role"`
	// ValidUntil is the mandate's last day; nil: until revoked.
	ValidUntil *civil.Date `json:"valid_until,omitempty"`
}

func parseRepresentation(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
	var r RepresentationRequest
	if fe := strictDecode(raw, &r); fe != nil {
		return nil, fe
	}
	var errs []FieldError
	r.CUI = NormalizeCUI(r.CUI)
	if r.CUI == "" {
		errs = append(errs, FieldError{"cui", "is required"})
	} else if m := CheckCUI(r.CUI); m != "" {
		errs = append(errs, FieldError{"cui", "invalid CUI: " + m})
	}
	if r.Role != RepresentativeAdministrator && r.Role != RepresentativeEmpowered {
		errs = append(errs, FieldError{"role", "must be one of: administrator, empowered"})
	}
	if r.ValidUntil != nil && (!r.ValidUntil.IsValid() || r.ValidUntil.Before(today)) {
		errs = append(errs, FieldError{"valid_until", "must be today or later (YYYY-MM-DD)"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, []FieldError{{"", err.Error()}}
	}
	return b, nil
}

// ReadRepresentation decodes a stored representation request.
func ReadRepresentation(data json.RawMessage) (RepresentationRequest, error) {
	var r RepresentationRequest
	err := json.Unmarshal(data, &r)
	return r, err
}

// RepresentationFacts names what the checks and the approval of a
// representation request read: the company with the CUI in the
// municipality's registry and the links of the case's filer to it.
type RepresentationFacts struct {
	CUI string
}

// RepresentationState is what the store found for RepresentationFacts.
type RepresentationState struct {
	// Company is the registry's company with the CUI (nil: none).
	Company *RegistryEntry
	// FilerID is the account that filed the case (the person to link) and
	// FilerAssurance its assurance now.
	FilerID        int64
	FilerAssurance Assurance
	// ActiveLink reports whether the filer already has a link to Company
	// that is not revoked and not expired.
	ActiveLink bool
}

func representationFacts(data json.RawMessage) (CheckFacts, error) {
	r, err := ReadRepresentation(data)
	if err != nil {
		return CheckFacts{}, err
	}
	return CheckFacts{Representation: &RepresentationFacts{CUI: r.CUI}}, nil
}

// representationChecks: the CUI is valid, the company is in the registry,
// the filer has no active link to it and is still a verified account.
func representationChecks(in CheckInput) []Check {
	r, err := ReadRepresentation(in.Data)
	if err != nil {
		return []Check{{Name: "cui_valid", OK: false, Detail: err.Error()}}
	}
	m := CheckCUI(r.CUI)
	out := []Check{{Name: "cui_valid", OK: m == "", Detail: m}}
	st := in.Representation
	if st == nil {
		return append(out, Check{Name: "company_in_registry", OK: false, Detail: "the registry was not read"})
	}
	ck := Check{Name: "company_in_registry", OK: st.Company != nil}
	if st.Company == nil {
		ck.Detail = "no company with CUI " + r.CUI + " in this municipality's registry: it must be entered first"
	} else {
		ck.Detail = st.Company.Name
	}
	out = append(out, ck)
	lk := Check{Name: "no_active_link", OK: !st.ActiveLink}
	if st.ActiveLink {
		lk.Detail = "the person already represents this company"
	}
	out = append(out, lk)
	vf := Check{Name: "filer_verified", OK: st.FilerAssurance == AssuranceVerified}
	if !vf.OK {
		vf.Detail = "the account that filed the request is not verified (ROeID or an enrollment code)"
	}
	return append(out, vf)
}

// RepresentationGrant is the link an approved representation request
// writes (ApprovalPlan.Representation).
type RepresentationGrant struct {
	UserID     int64
	TaxpayerID int64
	Role       string
	ValidUntil *civil.Date
}

// RepresentationEffects are the representation request's approval by name,
// for case types defined as data.
var RepresentationEffects = map[string]func(ApprovalInput) (*ApprovalPlan, error){
	"grant_representation": GrantRepresentation,
}

// GrantRepresentation (effect "grant_representation") links the filer's
// account to the company: it needs the company in the registry, no active
// link of the filer to it, the filer's account still verified and the
// mandate still valid today (ECONFLICT otherwise).
func GrantRepresentation(in ApprovalInput) (*ApprovalPlan, error) {
	r, err := ReadRepresentation(in.Data)
	if err != nil {
		return nil, Internal(err, "case data")
	}
	st := in.Representation
	switch {
	case st == nil:
		return nil, Errorf(EINTERNAL, "the registry was not read")
	case st.Company == nil:
		return nil, Errorf(ECONFLICT, "no company with CUI %s in the registry: it must be entered before the representation is approved", r.CUI)
	case st.Company.TaxpayerID == in.TaxpayerID:
		return nil, Errorf(ECONFLICT, "a taxpayer cannot represent itself")
	case st.ActiveLink:
		return nil, Errorf(ECONFLICT, "the person already represents this company")
	case st.FilerAssurance != AssuranceVerified:
		return nil, Errorf(ECONFLICT, "the account that filed the request is no longer verified")
	case r.ValidUntil != nil && r.ValidUntil.Before(in.Today):
		return nil, Errorf(ECONFLICT, "the mandate ended on %s", r.ValidUntil)
	}
	return &ApprovalPlan{Representation: &RepresentationGrant{UserID: st.FilerID, TaxpayerID: st.Company.TaxpayerID, Role: r.Role, ValidUntil: r.ValidUntil}}, nil
}

// CheckRepresentationFiler refuses (EFORBIDDEN) a representation request
// from anyone but a person acting for themself with a verified account
// (ROeID or an enrollment code): the link gives the company's record.
func CheckRepresentationFiler(a *Actor) error {
	switch {
	case a.Role != RoleTaxpayer:
		return Errorf(EFORBIDDEN, "a representation request is filed by the person to be linked, from their own account")
	case a.Representation != 0 || a.RepresentationEnded:
		return Errorf(EFORBIDDEN, "file a representation request while acting for yourself, not for a company")
	case a.Assurance != AssuranceVerified:
		return Errorf(EFORBIDDEN, "a representation request needs a verified account: sign in with the national identity provider (ROeID) or enroll with a code from the tax department")
	}
	return nil
}

// ErrRepresentationEnded is the answer to a session that acted for a
// company whose link ended: it must choose again.
func ErrRepresentationEnded() error {
	return Errorf(EFORBIDDEN, "you no longer represent the taxpayer this session acted for (the link was revoked or expired): choose again with POST /api/v1/me/act-for")
}

// ActingTaxpayer is one taxpayer a signed-in person may act for: their own
// record (Relation "self") or a company they represent.
type ActingTaxpayer struct {
	TaxpayerID int64  `json:"taxpayer_id"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	// Identity is the CNP (masked) or the CUI.
	Identity string `json:"identity"`
	// Relation is "self", "administrator" or "empowered".
	Relation         string      `json:"relation"`
	RepresentationID int64       `json:"representation_id,omitempty"`
	ValidUntil       *civil.Date `json:"valid_until,omitempty"`
	// Acting marks the one the session acts for now.
	Acting bool `json:"acting"`
}

// Representation is a link between a person's account and a company.
type Representation struct {
	ID           int64       `json:"id" db:"id"`
	UserID       int64       `json:"user_id" db:"user_id"`
	Username     string      `json:"username" db:"username"`
	TaxpayerID   int64       `json:"taxpayer_id" db:"taxpayer_id"`
	Role         string      `json:"role" db:"role"`
	CaseID       int64       `json:"case_id" db:"case_id"`
	ValidUntil   *civil.Date `json:"valid_until,omitempty" db:"valid_until"`
	RevokedAt    *time.Time  `json:"revoked_at,omitempty" db:"revoked_at"`
	RevokeReason string      `json:"revoke_reason,omitempty" db:"revoke_reason"`
	// Active: not revoked and not past ValidUntil.
	Active bool `json:"active" db:"-"`
}

// ActiveOn reports whether a link is in force on a day.
func ActiveOn(revoked bool, validUntil *civil.Date, today civil.Date) bool {
	return !revoked && (validUntil == nil || !validUntil.Before(today))
}

// RevokeRepresentation is a staff revocation of a link.
type RevokeRepresentation struct {
	Reason string `json:"reason" validate:"required,max=500"`
}

// RepresentationService is the links between persons and the companies
// they represent, and what a session acts for.
type RepresentationService interface {
	// ActingTaxpayers lists the taxpayers the signed-in person may act for:
	// their own record, then each company with an active link (taxpayer
	// role only; EFORBIDDEN otherwise).
	ActingTaxpayers(ctx context.Context) ([]ActingTaxpayer, error)
	// ActFor makes the session of token act for the taxpayer: the person's
	// own record, or a company with an active link (EFORBIDDEN otherwise).
	ActFor(ctx context.Context, token string, taxpayerID int64) (*ActingTaxpayer, error)
	// TaxpayerRepresentations lists a company's links (staff).
	TaxpayerRepresentations(ctx context.Context, taxpayerID int64) ([]*Representation, error)
	// RevokeRepresentation ends a link at once (officer, admin), audited;
	// ENOTFOUND outside the municipality, ECONFLICT when already revoked.
	RevokeRepresentation(ctx context.Context, id int64, r *RevokeRepresentation) (*Representation, error)
}

// MaskCNP shows a CNP's first and last three digits.
func MaskCNP(cnp string) string {
	if len(cnp) != 13 {
		return strings.Repeat("*", len(cnp))
	}
	return cnp[:1] + strings.Repeat("*", 9) + cnp[10:]
}

func init() {
	RegisterCaseType(&CaseType{
		Name: CaseRepresentation, Title: "Cerere de reprezentare a unei persoane juridice", TitleEN: "Request to represent a company", SLAWorkingDays: 5,
		Documents: []DocumentKind{
			{"mandate", "Împuternicirea (mandatul) sau actul de numire ca administrator", true},
			{"registry_extract", "Certificatul constatator de la Registrul Comerțului (pentru administratori)", false},
			{"other", "Alt document", false},
		},
		Parse:  parseRepresentation,
		Facts:  representationFacts,
		Checks: representationChecks,
		Required: func(data json.RawMessage) []string {
			req := []string{"mandate"}
			if r, err := ReadRepresentation(data); err == nil && r.Role == RepresentativeAdministrator {
				req = append(req, "registry_extract")
			}
			return req
		},
		Approve: RepresentationEffects["grant_representation"],
	})
}
