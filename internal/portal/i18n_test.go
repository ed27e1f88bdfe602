package portal

import (
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/money"
)

func TestCatalogComplete(t *testing.T) {
	for key := range messages[RO] {
		if _, ok := messages[EN][key]; !ok {
			t.Errorf("%s has no English message", key)
		}
	}
	for key := range messages[EN] {
		if _, ok := messages[RO][key]; !ok {
			t.Errorf("%s has no Romanian message", key)
		}
	}
	// ș ț with the comma below, never the cedilla forms ş ţ.
	for key, m := range messages[RO] {
		if strings.ContainsAny(m, "şţŞŢ") {
			t.Errorf("%s uses a cedilla: %q", key, m)
		}
	}
}

func TestFieldMessage(t *testing.T) {
	cases := []struct {
		lang, msg, want string
	}{
		{RO, "is required", "Completați acest câmp."},
		{EN, "is required and must be greater than zero", "Fill in this field."},
		{RO, "invalid CNP: invalid county code", "CNP invalid: codul județului nu este valid."},
		{EN, "invalid CUI: check digit does not match", "Invalid CUI: the check digit does not match."},
		{RO, "must have at most 64 characters", "Introduceți cel mult 64 de caractere."},
		{EN, "must be between 0 and 100000", "Enter a value between 0 and 100000."},
		{RO, "something new the server says", "something new the server says"},
	}
	for _, c := range cases {
		if got := fieldMessage(c.lang, fiscal.FieldError{Field: "x", Message: c.msg}); got != c.want {
			t.Errorf("%s %q: got %q, want %q", c.lang, c.msg, got, c.want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		b      money.Bani
		ro, en string
	}{{19800, "198,00 lei", "198.00 lei"}, {115180, "1.151,80 lei", "1,151.80 lei"}, {765600000, "7.656.000,00 lei", "7,656,000.00 lei"}, {-250, "−2,50 lei", "−2.50 lei"}} {
		if got := formatMoney(RO, c.b); got != c.ro {
			t.Errorf("ro %d: %q", c.b, got)
		}
		if got := formatMoney(EN, c.b); got != c.en {
			t.Errorf("en %d: %q", c.b, got)
		}
	}
}
