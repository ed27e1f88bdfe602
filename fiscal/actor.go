package fiscal

import "context"

// Actor is who performs a use case: a user of a municipality with a role, or
// the system itself (a command-line job).
type Actor struct {
	UserID         int64
	Username       string
	MunicipalityID int64
	Role           Role
	TaxpayerID     *int64
	// Assurance says whether a taxpayer's account may read its taxpayer's
	// fiscal record (CanSeeRecord).
	Assurance Assurance
	// Self is the person's own taxpayer record and Representation the link
	// (representations.id) while the session acts for a company the person
	// represents (representation.go): TaxpayerID is then the company's, so
	// every ownership check applies to it. Nil and 0 otherwise.
	Self           *int64
	Representation int64
	// RepresentationEnded: the session acted for a company whose link ended
	// (revoked, expired, the account no longer verified); TaxpayerID is the
	// person's own and requests other than choosing again are refused (403,
	// ErrRepresentationEnded).
	RepresentationEnded bool
	// System marks jobs run from the command line, which act with full rights
	// inside their municipality.
	System bool
}

// IsStaff reports whether the actor acts for the department.
func (a *Actor) IsStaff() bool { return a.System || a.Role.IsStaff() }

// Has reports whether the actor holds one of the roles (the system holds all).
func (a *Actor) Has(roles ...Role) bool {
	if a.System {
		return true
	}
	for _, r := range roles {
		if a.Role == r {
			return true
		}
	}
	return false
}

// CanSeeTaxpayer reports whether the actor may read the taxpayer's data:
// staff of the municipality, or the taxpayer themself.
func (a *Actor) CanSeeTaxpayer(municipalityID, taxpayerID int64) bool {
	if a.MunicipalityID != municipalityID {
		return false
	}
	if a.IsStaff() {
		return true
	}
	return a.TaxpayerID != nil && *a.TaxpayerID == taxpayerID
}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of the context, or nil.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// RequireActor returns the actor or an EUNAUTHORIZED error.
func RequireActor(ctx context.Context) (*Actor, error) {
	if a := ActorFrom(ctx); a != nil {
		return a, nil
	}
	return nil, Errorf(EUNAUTHORIZED, "authentication required")
}

// RequireRole returns the actor if it holds one of the roles, else
// EUNAUTHORIZED or EFORBIDDEN.
func RequireRole(ctx context.Context, roles ...Role) (*Actor, error) {
	a, err := RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.Has(roles...) {
		return nil, Errorf(EFORBIDDEN, "this action needs one of the roles %v", roles)
	}
	return a, nil
}
