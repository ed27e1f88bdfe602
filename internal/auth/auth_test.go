package auth

import "testing"

func TestPassword(t *testing.T) {
	h, err := HashPassword("corect horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CheckPassword(h, "corect horse battery"); !ok || err != nil {
		t.Fatal("right password refused", err)
	}
	if ok, _ := CheckPassword(h, "wrong"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("corect horse battery")
	if h == h2 {
		t.Fatal("salt not random")
	}
	if _, err := CheckPassword("$bcrypt$x", "x"); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestToken(t *testing.T) {
	a, _ := NewToken()
	b, _ := NewToken()
	if a == b || len(a) < 40 || HashToken(a) == a || len(HashToken(a)) != 64 {
		t.Fatal(a, b)
	}
}

// TestNewEnrollmentCode: 16 characters of Crockford's base 32, every
// character of the alphabet used, no repeats in 2,000 codes.
func TestNewEnrollmentCode(t *testing.T) {
	seen, chars := map[string]bool{}, map[rune]bool{}
	for range 2000 {
		c, err := NewEnrollmentCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 16 || seen[c] {
			t.Fatalf("code %q (len %d, seen %v)", c, len(c), seen[c])
		}
		seen[c] = true
		for _, r := range c {
			chars[r] = true
		}
	}
	for _, r := range enrollAlphabet {
		if !chars[r] {
			t.Errorf("%c never drawn", r)
		}
	}
	if len(chars) != 32 {
		t.Errorf("%d distinct characters, want 32", len(chars))
	}
}
