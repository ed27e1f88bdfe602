package main

import (
	"context"
	"fmt"
	"io"

	"fiscald/fiscal"
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

// seedDemo creates the demo accounts and a demo taxpayer if they are missing.
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
	_, _, err = db.Register(ctx, m.ID, &fiscal.Registration{Username: "ana", Password: "plata-demo-2026", Email: "ana@example.ro",
		Taxpayer: fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "2850615350041", Name: "Ana Popescu", Address: "Str. Mărășești 4, Timișoara"}})
	switch fiscal.ErrorCode(err) {
	case "":
		created++
	case fiscal.ECONFLICT:
	default:
		return err
	}
	if created > 0 {
		fmt.Fprintf(out, "demo: created %d demo account(s) in %s (see README)\n", created, m.Name)
	}
	return nil
}
