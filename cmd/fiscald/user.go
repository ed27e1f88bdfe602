package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"fiscald/fiscal"
)

func cmdUser(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "fiscald user add --username U --role R --password-stdin [--full-name N] [--municipality SLUG]")
			return errHelp
		}
		return errors.New("usage: fiscald user add --username U --role R --password-stdin")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	username := fs.String("username", "", "the new account's username")
	role := fs.String("role", "", "officer, signer, accountant or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (required)")
	fullName := fs.String("full-name", "", "the person's name, printed on signed documents")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	if err := parse(fs, args[1:], stdout, "fiscald user add: create a staff account"); err != nil {
		return err
	}
	if !*fromStdin {
		return errors.New("--password-stdin is required (passwords never go on the command line)")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	db, err := openDB(ctx, cfg, false, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := db.MunicipalityBySlug(ctx, *muni)
	if err != nil {
		return err
	}
	name := *fullName
	if name == "" {
		name = *username
	}
	u, err := db.CreateStaff(ctx, m.ID, *username, password, fiscal.Role(*role), name)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created %s user %q (id %d) in %s\n", u.Role, u.Username, u.ID, m.Slug)
	return nil
}

func cmdAudit(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: fiscald audit verify [--municipality SLUG]")
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	if err := parse(fs, args[1:], stdout, "fiscald audit verify: re-hash the audit chain and name the first broken entry"); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, false, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := db.MunicipalityBySlug(ctx, *muni)
	if err != nil {
		return err
	}
	v, err := db.VerifyAuditChain(ctx, m.ID)
	if err != nil {
		return err
	}
	if !v.Valid {
		if v.FirstInvalidEntry != nil {
			return fmt.Errorf("audit chain BROKEN at entry %d of %d: %s", *v.FirstInvalidEntry, v.Entries, v.Reason)
		}
		return fmt.Errorf("audit chain BROKEN: %s", v.Reason)
	}
	fmt.Fprintf(stdout, "audit chain of %s is intact: %d entries\n", m.Slug, v.Entries)
	return nil
}

// describe turns a domain error into a readable command-line error.
func describe(err error) error {
	var fe *fiscal.Error
	if errors.As(err, &fe) && len(fe.Fields) > 0 {
		parts := make([]string, len(fe.Fields))
		for i, f := range fe.Fields {
			parts[i] = f.Field + ": " + f.Message
		}
		return errors.New(strings.Join(parts, "; "))
	}
	return err
}
