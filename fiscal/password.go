package fiscal

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lengths a password may have, in characters (NIST SP 800-63B
// §3.1.1.2: at least 8, better more; long passphrases must fit).
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// The messages of the password rule; the portal translates them by text.
const (
	PasswordTooShort = "must have at least 10 characters"
	PasswordTooLong  = "must have at most 256 characters"
	PasswordCommon   = "is too common: choose a password that is not on the lists of frequent passwords"
	PasswordPersonal = "must not contain the username, the e-mail address, the CNP or the CUI"
	PasswordTrivial  = "must not be one repeated character, a repeated group or a simple sequence"
)

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list, lower-cased.
var commonPasswords = func() map[string]bool {
	m := make(map[string]bool, 4000)
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = true
	}
	return m
}()

// keyboardRuns are rows and runs of keys a trivial password walks along
// (QWERTY and the QWERTZ of some Romanian keyboards), each also read backwards.
var keyboardRuns = []string{"1234567890", "qwertyuiop", "qwertzuiop", "asdfghjkl", "zxcvbnm", "yxcvbnm",
	"1234567890qwertyuiopasdfghjklzxcvbnm", "qazwsxedcrfvtgbyhnujmikolp"}

// CheckPassword applies the password rule of every account, taxpayer or
// staff (NIST SP 800-63B §5.1.1.2): MinPasswordLength to MaxPasswordLength
// characters, any characters including spaces (passphrases); not one of the
// embedded common passwords, alone or with digits and symbols around it;
// not one repeated character, a repeated short group or a simple sequence
// (abcdefghij, 0987654321, qwertyuiop); and not containing the account's own
// identifiers given in personal (username, e-mail address or its local
// part, CNP, CUI; those shorter than 3 characters are ignored). Comparisons
// ignore case. It returns nil or an EINVALID error naming the field
// "password".
func CheckPassword(password string, personal ...string) error {
	if msg := passwordProblem(password, personal); msg != "" {
		return InvalidField("password", msg)
	}
	return nil
}

func passwordProblem(password string, personal []string) string {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return PasswordTooShort
	}
	if n > MaxPasswordLength {
		return PasswordTooLong
	}
	lower := strings.ToLower(password)
	for _, id := range personal {
		id = strings.ToLower(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		ids := []string{id}
		if local, _, ok := strings.Cut(id, "@"); ok {
			ids = append(ids, local)
		}
		for _, s := range ids {
			if utf8.RuneCountInString(s) >= 3 && strings.Contains(lower, s) {
				return PasswordPersonal
			}
		}
	}
	if isCommonPassword(lower) {
		return PasswordCommon
	}
	if isTrivialPassword(lower) {
		return PasswordTrivial
	}
	return ""
}

// isCommonPassword: lower is on the list, or is a listed word of at least
// four characters with only digits, spaces or symbols before or after it
// (password12, 2026dragon!).
func isCommonPassword(lower string) bool {
	if commonPasswords[lower] {
		return true
	}
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) }
	core := strings.TrimRightFunc(lower, notLetter)
	if core != lower && len(core) >= 4 && commonPasswords[core] {
		return true
	}
	core = strings.TrimFunc(lower, notLetter)
	return core != lower && len(core) >= 4 && commonPasswords[core]
}

// isTrivialPassword: one repeated character, a group of up to four
// characters (or a common password) repeated, a run of consecutive
// characters up or down (digits wrap: 7890), or a walk along a keyboard row.
func isTrivialPassword(lower string) bool {
	rs := []rune(lower)
	for size := 1; size <= len(rs)/2; size++ {
		if len(rs)%size != 0 {
			continue
		}
		unit := string(rs[:size])
		if (size <= 4 || commonPasswords[unit]) && strings.Repeat(unit, len(rs)/size) == lower {
			return true
		}
	}
	for _, step := range []rune{1, -1} {
		seq := true
		for i := 1; i < len(rs) && seq; i++ {
			d := rs[i] - rs[i-1]
			wrap := step == 1 && rs[i-1] == '9' && rs[i] == '0' || step == -1 && rs[i-1] == '0' && rs[i] == '9'
			seq = d == step || wrap
		}
		if seq {
			return true
		}
	}
	for _, run := range keyboardRuns {
		if strings.Contains(run, lower) || strings.Contains(reverse(run), lower) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}
