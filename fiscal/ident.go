package fiscal

import (
	"math/big"
	"strings"
	"time"
)

// CheckCNP validates a Romanian personal numeric code (CNP): 13 digits
// S YY MM DD JJ NNN C, a sex/century digit 1-9, a real birth date, a county
// code 01-46 or 51-52, and the check digit (weights 279146358279, mod 11,
// 10 becomes 1). It returns "" when valid, otherwise the reason.
func CheckCNP(cnp string) string {
	if len(cnp) != 13 {
		return "must have 13 digits"
	}
	d := make([]int, 13)
	for i, r := range cnp {
		if r < '0' || r > '9' {
			return "must have 13 digits"
		}
		d[i] = int(r - '0')
	}
	century := 0
	switch d[0] {
	case 1, 2:
		century = 1900
	case 3, 4:
		century = 1800
	case 5, 6:
		century = 2000
	case 7, 8, 9:
		century = -1 // residents and foreigners: the century is not encoded
	default:
		return "invalid sex/century digit"
	}
	yy, mm, dd := d[1]*10+d[2], d[3]*10+d[4], d[5]*10+d[6]
	if century < 0 {
		century = 1900
		if yy < 50 {
			century = 2000
		}
	}
	y := century + yy
	t := time.Date(y, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if mm < 1 || mm > 12 || dd < 1 || t.Month() != time.Month(mm) || t.Day() != dd {
		return "invalid birth date"
	}
	county := d[7]*10 + d[8]
	if !(county >= 1 && county <= 46) && county != 51 && county != 52 {
		return "invalid county code"
	}
	weights := [12]int{2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9}
	sum := 0
	for i, w := range weights {
		sum += d[i] * w
	}
	c := sum % 11
	if c == 10 {
		c = 1
	}
	if c != d[12] {
		return "check digit does not match"
	}
	return ""
}

// NormalizeCUI removes an optional "RO" prefix and spaces.
func NormalizeCUI(cui string) string {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(cui), " ", ""))
	return strings.TrimPrefix(s, "RO")
}

// CheckCUI validates a Romanian company fiscal code (CUI/CIF): 2-10 digits
// after an optional RO prefix; the body padded to 9 digits, weighted by
// 753217532, times 10, mod 11 (10 becomes 0) is the check digit. It returns
// "" when valid, otherwise the reason.
func CheckCUI(cui string) string {
	s := NormalizeCUI(cui)
	if len(s) < 2 || len(s) > 10 {
		return "must have 2 to 10 digits"
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "must have 2 to 10 digits"
		}
	}
	body := strings.Repeat("0", 10-len(s)) + s[:len(s)-1]
	weights := [9]int{7, 5, 3, 2, 1, 7, 5, 3, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	c := sum * 10 % 11
	if c == 10 {
		c = 0
	}
	if c != int(s[len(s)-1]-'0') {
		return "check digit does not match"
	}
	return ""
}

// CheckVIN validates a vehicle identification number (ISO 3779): 17
// characters, digits and capital letters without I, O and Q. The North
// American check digit (position 9) is not required in Europe, so it is not
// checked.
func CheckVIN(vin string) string {
	if len(vin) != 17 {
		return "must have 17 characters"
	}
	for _, r := range vin {
		switch {
		case r >= '0' && r <= '9':
		case r == 'I' || r == 'O' || r == 'Q':
			return "must not contain I, O or Q"
		case r >= 'A' && r <= 'Z':
		default:
			return "only digits and capital letters"
		}
	}
	return ""
}

// CheckIBAN validates a Romanian IBAN: 24 characters starting RO, ISO 13616
// mod 97 = 1.
func CheckIBAN(iban string) string {
	s := strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	if len(s) != 24 || !strings.HasPrefix(s, "RO") {
		return "must be a Romanian IBAN of 24 characters"
	}
	var b strings.Builder
	for _, r := range s[4:] + s[:4] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		default:
			return "only digits and letters"
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	if !ok || new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
		return "check digits do not match"
	}
	return ""
}
