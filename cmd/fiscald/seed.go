package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/demo"
	"fiscald/internal/store"
)

// knownMunicipalities are the tenants fiscald can create by slug.
var knownMunicipalities = map[string]fiscal.Municipality{
	"timisoara": {Slug: "timisoara", Name: "Municipiul Timișoara", Rank: "I", County: "Timiș"},
}

// ensureMunicipality creates the default municipality on first start.
func ensureMunicipality(ctx context.Context, db *store.DB, slug string) error {
	if _, err := db.MunicipalityBySlug(ctx, slug); err == nil {
		return nil
	} else if fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
		return err
	}
	m, ok := knownMunicipalities[slug]
	if !ok {
		m = fiscal.Municipality{Slug: slug, Name: slug, Rank: "I"}
	}
	return db.CreateMunicipality(ctx, &m)
}

// demoAccounts are the accounts `make run` creates; the README lists them.
var demoAccounts = []struct {
	username, password string
	role               fiscal.Role
	name               string
}{
	{"admin", "cetate-demo-2026", fiscal.RoleAdmin, "Administrator Demo"},
	{"ioana", "ghiseu-demo-2026", fiscal.RoleOfficer, "Ioana Popa"},
	{"dan", "semnez-demo-2026", fiscal.RoleSigner, "Dan Ionescu"},
	{"carmen", "bilant-demo-2026", fiscal.RoleAccountant, "Carmen Stan"},
}

// seedDemo creates the demo accounts if they are missing and imports the
// demo city (internal/demo) once.
func seedDemo(ctx context.Context, db *store.DB, slug string, out io.Writer) error {
	m, err := db.MunicipalityBySlug(ctx, slug)
	if err != nil {
		return err
	}
	created := 0
	for _, a := range demoAccounts {
		_, err := db.CreateStaff(ctx, m.ID, a.username, a.password, a.role, a.name)
		switch fiscal.ErrorCode(err) {
		case "":
			created++
		case fiscal.ECONFLICT:
		default:
			return err
		}
	}
	// The demo city goes through the importer (internal/demo/data): on the
	// first start it imports the files and opens ana's account with an
	// enrollment code; on a restart every file is found imported and
	// nothing is written.
	start := time.Now()
	sys := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "fiscald serve --demo", MunicipalityID: m.ID})
	res, err := demo.Seed(sys, db, m.ID)
	if err != nil {
		return err
	}
	for _, r := range res.Imports {
		fmt.Fprintf(out, "demo: imported %s: %d rows (%d new, %d rejected)\n", r.Kind, r.Rows, r.Imported, r.Rejected)
	}
	if len(res.Imports) > 0 {
		fmt.Fprintf(out, "demo: the demo city imported in %s\n", time.Since(start).Round(time.Millisecond))
	}
	if res.AnaEnrolled {
		created++
	}
	if created > 0 {
		fmt.Fprintf(out, "demo: created %d demo account(s) in %s (see README)\n", created, m.Name)
	}
	return nil
}

// seedDemoCases files the demo's cases in progress (demo.SeedCases) once:
// a case waiting for the officer, one waiting for the signer and an
// approved certificate to download, for ana and for the test ROeID's
// person. It needs the case workflow's keys and blobs and the documents'
// producer (useCaseDeps, useDocuments).
func seedDemoCases(ctx context.Context, db *store.DB, slug string, out io.Writer) error {
	m, err := db.MunicipalityBySlug(ctx, slug)
	if err != nil {
		return err
	}
	sys := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "fiscald serve --demo", MunicipalityID: m.ID})
	filed, err := demo.SeedCases(sys, db, m.ID)
	if err != nil {
		return err
	}
	if len(filed) > 0 {
		fmt.Fprintf(out, "demo: filed %d case(s) in progress (waiting for %s, for %s, and approved)\n", len(filed), demo.Officer, demo.Signer)
	}
	return nil
}
