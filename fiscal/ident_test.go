package fiscal

import "testing"

func TestCheckCNP(t *testing.T) {
	for _, c := range []struct {
		cnp string
		ok  bool
	}{
		{"1850315350012", true},
		{"2850615350041", true}, // remainder 10 becomes 1
		{"1850315350013", false},
		{"1850230350015", false}, // 30 February
		{"1850315470012", false}, // county 47
		{"0850315350012", false},
		{"185031535001", false},
		{"18503153500a2", false},
	} {
		if got := CheckCNP(c.cnp) == ""; got != c.ok {
			t.Errorf("CheckCNP(%s) = %q", c.cnp, CheckCNP(c.cnp))
		}
	}
}

func TestCheckCUI(t *testing.T) {
	for _, c := range []struct {
		cui string
		ok  bool
	}{
		{"18547290", true}, {"RO18547290", true}, {"ro 13548146", true}, {"13548146", true},
		{"18547291", false}, {"1", false}, {"12345678901", false}, {"RO", false}, {"1854729X", false},
	} {
		if got := CheckCUI(c.cui) == ""; got != c.ok {
			t.Errorf("CheckCUI(%s) = %q", c.cui, CheckCUI(c.cui))
		}
	}
}

func TestCheckVINAndIBAN(t *testing.T) {
	if r := CheckVIN("WVWZZZAUZHW123456"); r != "" {
		t.Fatal(r)
	}
	for _, bad := range []string{"WVWZZZAUZHW12345", "WVWZZZAUZHW12345O", "wvwzzzauzhw123456"} {
		if CheckVIN(bad) == "" {
			t.Fatal("accepted", bad)
		}
	}
	if r := CheckIBAN("RO96TREZ7042107020101XXX"); r != "" {
		t.Fatal(r)
	}
	if CheckIBAN("RO97TREZ7042107020101XXX") == "" {
		t.Fatal("bad IBAN accepted")
	}
}

func FuzzIdentity(f *testing.F) {
	for _, s := range []string{"1850315350012", "RO18547290", "WVWZZZAUZHW123456", "RO96TREZ7042107020101XXX", "", " RO"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = CheckCNP(s)
		_ = CheckCUI(s)
		_ = CheckVIN(s)
		_ = CheckIBAN(s)
	})
}
