package fiscal

import (
	"context"
	"encoding/json"
	"time"

	"fiscald/internal/civil"
)

// ActInput is an act on a step of a case's route (contract:
// POST /api/v1/cases/{id}/act).
type ActInput struct {
	Step     string `json:"step" validate:"required,max=130"`
	Decision string `json:"decision" validate:"required,oneof=approve reject request_info"`
	Comment  string `json:"comment" validate:"max=4000"`
	// Version, when given, must be the case's current revision (else 409).
	Version int64 `json:"revision,omitempty" validate:"gte=0"`
}

// PublishedType answers a publication: the type and its new version, and
// for a dry run the route a sample case would take (nothing is written).
type PublishedType struct {
	Type    string     `json:"type"`
	Version int64      `json:"version"`
	DryRun  bool       `json:"dry_run,omitempty"`
	Route   *RoutePlan `json:"route,omitempty"`
}

// CaseTypeVersion is a published type's current version as listed.
type CaseTypeVersion struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	TitleEN string `json:"title_en"`
	// Effect is the behaviour the type runs (its form, checks and
	// approval), for the types that have one: the shipped types and a
	// municipality's versions of them. Their forms have their own pages.
	Effect         string  `json:"effect,omitempty"`
	Version        int64   `json:"version"`
	SLAWorkingDays int     `json:"sla_working_days"`
	Form           DefForm `json:"form"`
	// Fields are a type with an effect's simple form (a petition's
	// subject and body); the others' forms are in the contract.
	Fields    []FormField    `json:"fields,omitempty"`
	Documents []DocumentKind `json:"documents"`
	Steps     []DefStep      `json:"steps"`
	// PublishedAt is when the municipality published the version; absent
	// for a shipped definition.
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

// CaseMigration moves the open cases of a type from one version to another
// (contract: POST /api/v1/admin/case-types/{type}/migrate): StepMap maps
// every step that may be open on the old version to a step of the new.
type CaseMigration struct {
	FromVersion int64             `json:"from_version" validate:"required,gt=0"`
	ToVersion   int64             `json:"to_version" validate:"required,gt=0"`
	StepMap     map[string]string `json:"step_map" validate:"required,max=100"`
}

// MigrationResult lists the cases moved.
type MigrationResult struct {
	Type        string  `json:"type"`
	FromVersion int64   `json:"from_version"`
	ToVersion   int64   `json:"to_version"`
	Moved       []int64 `json:"moved"`
}

// NewSubstitution is an absence covered by a substitute (contract:
// POST /api/v1/admin/substitutions).
type NewSubstitution struct {
	UserID       int64      `json:"user_id" validate:"required,gt=0"`
	SubstituteID int64      `json:"substitute_id" validate:"required,gt=0"`
	From         civil.Date `json:"from" validate:"required"`
	To           civil.Date `json:"to" validate:"required"`
	Mode         string     `json:"mode" validate:"required,oneof=delegate on_behalf"`
	// CaseType limits it to one type; empty: every type.
	CaseType string `json:"case_type,omitempty" validate:"max=64"`
}

// Substitution is a recorded substitution.
type Substitution struct {
	ID int64 `json:"id" db:"id"`
	NewSubstitution
	// ReassignedAt is when the absent person's open cases were moved (at
	// creation when the absence has already started; else by the sweep on
	// its first day). Reassigned went to the substitute, Queued returned to
	// the queue (a step the substitute may not take; see AbsenceReassignment).
	ReassignedAt *time.Time `json:"reassigned_at,omitempty"`
	Reassigned   []int64    `json:"reassigned,omitempty"`
	Queued       []int64    `json:"queued,omitempty"`
}

// AbsenceReport is what one sweep of the substitutions did: the
// substitutions claimed and the cases moved to substitutes or returned to
// the queue.
type AbsenceReport struct {
	Substitutions int `json:"substitutions"`
	Reassigned    int `json:"reassigned"`
	Queued        int `json:"queued"`
}

// RequestTypeService is the general workflow of published request types.
type RequestTypeService interface {
	// PublishCaseType checks a definition and publishes it as the type's
	// next version (admin); dryRun only checks it and plans the route.
	PublishCaseType(ctx context.Context, body json.RawMessage, dryRun bool) (*PublishedType, error)
	// PublishedCaseTypes lists the current version of each published type
	// of the municipality.
	PublishedCaseTypes(ctx context.Context, municipalityID int64) ([]*CaseTypeVersion, error)
	// Act takes an open step of a case (any type: review and sign are acts
	// on the steps of those names).
	Act(ctx context.Context, caseID int64, in *ActInput) (*CaseDetail, error)
	// MigrateCases moves the open cases of a type to another version
	// (admin), in one transaction, one audit entry per case.
	MigrateCases(ctx context.Context, caseType string, in *CaseMigration) (*MigrationResult, error)
	// AddSubstitution records a substitution (admin).
	AddSubstitution(ctx context.Context, in *NewSubstitution) (*Substitution, error)
}
