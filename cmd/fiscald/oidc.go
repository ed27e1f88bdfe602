package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"fiscald/assess"
	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/oidc"
	"fiscald/internal/store"
	"fiscald/internal/testroeid"
)

// identityProvider is the relying party of FISCAL_OIDC_ISSUER, or, for
// `serve --demo` without one, of a test ROeID started on loopback (its
// login page lists the demo identities); nil when neither. stop ends the
// test ROeID.
func identityProvider(ctx context.Context, db *store.DB, cfg config, demo bool, log *slog.Logger, out io.Writer) (fiscal.IdentityProvider, func(), error) {
	stop := func() {}
	redirect := cfg.OIDCRedirectURL
	if redirect == "" {
		redirect = strings.TrimSuffix(cfg.PublicURL, "/") + "/auth/oidc/callback"
	}
	rc := oidc.Config{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret, RedirectURL: redirect,
		Scopes: oidc.ParseScopes(cfg.OIDCScopes), CNPClaim: cfg.OIDCCNPClaim, Clock: db.Clock(), Logger: log}
	switch {
	case cfg.OIDCIssuer != "":
	case demo:
		secret := make([]byte, 16)
		rand.Read(secret)
		rc.ClientID, rc.ClientSecret = "fiscald-demo", hex.EncodeToString(secret)
		op, err := testroeid.Start(testroeid.Config{ClientID: rc.ClientID, ClientSecret: rc.ClientSecret, RedirectURIs: []string{redirect}, Logger: log})
		if err != nil {
			return nil, stop, err
		}
		stop = func() { op.Close() }
		rc.Issuer = op.Issuer
		if err := seedDemoRegistered(ctx, db, cfg.Municipality, out); err != nil {
			stop()
			return nil, func() {}, err
		}
		fmt.Fprintf(out, "demo: test ROeID (identity provider, loopback only) at %s: \"Intră cu ROeID\" on the sign-in page\n", op.Issuer)
	default:
		return nil, stop, nil
	}
	rp, err := oidc.New(rc)
	if err != nil {
		stop()
		return nil, func() {}, fmt.Errorf("FISCAL_OIDC_*: %w", err)
	}
	return rp, stop, nil
}

// seedDemoRegistered enters the test ROeID's registered person in the demo
// registry (no account: they sign in with ROeID) with a car, and assesses
// the current year, so that they have a debt to see and pay. Once: nothing
// happens when their CNP is on file.
func seedDemoRegistered(ctx context.Context, db *store.DB, slug string, out io.Writer) error {
	m, err := db.MunicipalityBySlug(ctx, slug)
	if err != nil {
		return err
	}
	sys := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "fiscald demo", MunicipalityID: m.ID})
	p := testroeid.DemoRegistered
	cnp := p.CNP
	// On file already (every start but the first): nothing is written.
	if found, _, err := db.FindTaxpayers(sys, fiscal.TaxpayerFilter{Q: cnp, Limit: 1}); err != nil {
		return err
	} else if len(found) > 0 {
		return nil
	}
	acquired := civil.Date{Year: 2019, Month: 4, Day: 10}
	done := false
	_, err = db.BulkLoad(sys, m.ID, "seed.demo_registered", func() (*store.SeedTaxpayer, error) {
		if done {
			return nil, nil
		}
		done = true
		return &store.SeedTaxpayer{Taxpayer: fiscal.Taxpayer{Kind: fiscal.Individual, CNP: &cnp, Name: p.Nume + " " + p.Prenume, Address: p.Adresa},
			Vehicles: []fiscal.Vehicle{{VIN: "WVWZZZ1KZ9W000017", Plate: "TM-19-ROE", Category: "car", EngineCC: 1598, EmissionClass: "euro6",
				Propulsion: "combustion", AcquiredOn: acquired, TaxedFromYear: calc.FirstTaxedYear(acquired)}}}, nil
	})
	switch fiscal.ErrorCode(err) {
	case "":
	case fiscal.ECONFLICT:
		return nil // on file already
	default:
		return err
	}
	year := db.Clock().Now().Year()
	if _, err := assess.Run(sys, db, assess.Options{MunicipalityID: m.ID, Municipality: m.Slug, Year: year, Workers: 1}); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: %s %s (CNP %s) is in the registry with car TM-19-ROE and its %d tax; sign in as them with ROeID\n", p.Nume, p.Prenume, p.CNP, year)
	return nil
}
