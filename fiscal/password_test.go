package fiscal

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	personal := []string{"ana", "ana.popescu@example.ro", "2850615350041", ""}
	cases := []struct {
		password string
		want     string // "" accepted, else the message
	}{
		// The probe's findings.
		{"aaaaaaaaaa", PasswordTrivial},
		{"1234567890", PasswordCommon},
		{"password12", PasswordCommon},
		// Length, counted in characters.
		{"scurt", PasswordTooShort},
		{"ăîșțâăîșț", PasswordTooShort},
		{"ăîșțâăîșțâ-x", ""},
		{strings.Repeat("o frază lungă ", 18), ""},
		{strings.Repeat("x", 257), PasswordTooLong},
		// The common list, case-insensitively, alone or with digits and symbols around.
		{"PASSWORD12", PasswordCommon},
		{"Qwertyuiop", PasswordCommon},
		{"basketball", PasswordCommon},
		{"dragon2026!", PasswordCommon},
		{"2026-dragon", PasswordCommon},
		{"parola12345", PasswordCommon},
		{"Timisoara2026", PasswordCommon},
		// The account's own identifiers.
		{"ana-demo-2026", PasswordPersonal},
		{"xANAx-secret-y", PasswordPersonal},
		{"ana.popescu@example.ro", PasswordPersonal},
		{"Ana.Popescu-secreta", PasswordPersonal},
		{"x2850615350041", PasswordPersonal},
		// Repeats and sequences.
		{"ababababab", PasswordTrivial},
		{"123123123123", PasswordTrivial},
		{"abcdefghijk", PasswordTrivial},
		{"9876543210", PasswordTrivial},
		{"34567890123", PasswordTrivial},
		{"poiuytrewq", PasswordTrivial},
		{"mnbvcxzlkjh", PasswordTrivial},
		{"dragondragon", PasswordTrivial},
		{"zxcvbnmzxcvbnm", PasswordTrivial},
		// Acceptable ones, passphrases with spaces included.
		{"plata-demo-2026", ""},
		{"cal verde baterie capsa", ""},
		{"o parolă lungă", ""},
		{"parola-lunga-1", ""},
		{"Tm#8vQ!2pL", ""},
	}
	for _, c := range cases {
		err := CheckPassword(c.password, personal...)
		got := ""
		if err != nil {
			e := err.(*Error)
			if e.Code != EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "password" {
				t.Fatalf("%q: %#v, want EINVALID naming password", c.password, e)
			}
			got = e.Fields[0].Message
		}
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.password, got, c.want)
		}
	}
}

// TestCommonPasswordsEmbedded: the list is there, comments are not entries.
func TestCommonPasswordsEmbedded(t *testing.T) {
	if n := len(commonPasswords); n < 3000 {
		t.Fatalf("%d common passwords embedded", n)
	}
	for _, p := range []string{"123456", "password", "iloveyou", "parola"} {
		if !commonPasswords[p] {
			t.Errorf("%q not on the list", p)
		}
	}
	for p := range commonPasswords {
		if strings.HasPrefix(p, "#") || p != strings.ToLower(p) {
			t.Errorf("entry %q", p)
		}
	}
}

func TestRegistrationValidatePassword(t *testing.T) {
	r := Registration{Username: "mihai", Password: "mihai-2026-x", Email: "m@example.ro",
		Taxpayer: TaxpayerInput{Kind: Individual, CNP: "1850315350012", Name: "Mihai", Address: "Str. X 1"}}
	if f := r.Validate(); len(f) != 1 || f[0].Field != "password" || f[0].Message != PasswordPersonal {
		t.Fatalf("%v", f)
	}
	r.Password = "1850315350012!"
	if f := r.Validate(); len(f) != 1 || f[0].Message != PasswordPersonal {
		t.Fatalf("CNP: %v", f)
	}
	r.Password = "cal verde baterie"
	if f := r.Validate(); len(f) != 0 {
		t.Fatalf("passphrase: %v", f)
	}
}
