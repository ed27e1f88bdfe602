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
