package fiscal

import "testing"

func TestNormalizeEnrollmentCode(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"ABCD-EFGH-JKMN-PQRS", "ABCDEFGHJKMNPQRS", true},
		{"abcd efgh jkmn pqrs", "ABCDEFGHJKMNPQRS", true},
		{"0O1I-L000-0000-0000", "0011100000000000", true}, // look-alikes read as digits
		{"ABCD-EFGH-JKMN-PQR", "", false},                 // 15 characters
		{"ABCD-EFGH-JKMN-PQRST", "", false},               // 17
		{"ABCD-EFGH-JKMN-PQRU", "", false},                // U is not in the alphabet
		{"ABCD-EFGH-JKMN-PQRȘ", "", false},
		{"", "", false},
	} {
		got, ok := NormalizeEnrollmentCode(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if got := FormatEnrollmentCode("ABCDEFGHJKMNPQRS"); got != "ABCD-EFGH-JKMN-PQRS" {
		t.Errorf("format: %q", got)
	}
}

func TestEnrollmentCodeDays(t *testing.T) {
	for settings, want := range map[string]int{
		"": 90, "{}": 90, `{"enrollment_code_days": 30}`: 30, `{"enrollment_code_days": 0}`: 90,
		`{"enrollment_code_days": 401}`: 90, `{"enrollment_code_days": "30"}`: 90, `not json`: 90,
	} {
		if got := EnrollmentCodeDays(settings); got != want {
			t.Errorf("%s: %d, want %d", settings, got, want)
		}
	}
}

func TestEnrollmentValidate(t *testing.T) {
	e := Enrollment{Code: "abcd-efgh-jkmn-pqrs", CNP: "2850615350041", Username: "ana", Password: "o parolă lungă", Email: "ana@example.ro"}
	if err := e.Validate(); err != nil || e.Code != "ABCDEFGHJKMNPQRS" {
		t.Fatalf("valid: %v %q", err, e.Code)
	}
	bad := Enrollment{Code: "12", CNP: "2850615350042", Username: "ana", Password: "password", Email: "ana@example.ro"}
	err := bad.Validate()
	fields := map[string]bool{}
	if e, ok := err.(*Error); ok {
		for _, f := range e.Fields {
			fields[f.Field] = true
		}
	}
	if ErrorCode(err) != EINVALID || !fields["code"] || !fields["cnp"] || !fields["password"] {
		t.Fatalf("invalid: %v", err)
	}
}

// TestCheckAccountChange: the admin's changes as a table.
func TestCheckAccountChange(t *testing.T) {
	admin := &Actor{UserID: 1, Role: RoleAdmin}
	system := &Actor{System: true}
	self := &User{ID: 1, Role: RoleAdmin}
	otherAdmin := &User{ID: 2, Role: RoleAdmin}
	officer := &User{ID: 3, Role: RoleOfficer}
	taxpayer := &User{ID: 4, Role: RoleTaxpayer}
	disabledAdmin := &User{ID: 5, Role: RoleAdmin, Disabled: true}
	for _, c := range []struct {
		name   string
		actor  *Actor
		target *User
		change AccountChange
		role   Role
		admins int
		want   string
	}{
		{"disable an officer", admin, officer, ChangeDisable, "", 1, ""},
		{"disable oneself", admin, self, ChangeDisable, "", 2, ECONFLICT},
		{"disable another admin", admin, otherAdmin, ChangeDisable, "", 2, ""},
		{"disable the last admin (system)", system, otherAdmin, ChangeDisable, "", 1, ECONFLICT},
		{"disable a taxpayer", admin, taxpayer, ChangeDisable, "", 1, ""},
		{"enable a disabled admin", admin, disabledAdmin, ChangeEnable, "", 1, ""},
		{"officer to signer", admin, officer, ChangeRole, RoleSigner, 1, ""},
		{"officer to taxpayer", admin, officer, ChangeRole, RoleTaxpayer, 1, EINVALID},
		{"taxpayer to admin", admin, taxpayer, ChangeRole, RoleAdmin, 1, ECONFLICT},
		{"demote oneself", admin, self, ChangeRole, RoleOfficer, 3, ECONFLICT},
		{"oneself stays admin", admin, self, ChangeRole, RoleAdmin, 1, ""},
		{"demote another admin", admin, otherAdmin, ChangeRole, RoleOfficer, 2, ""},
		{"demote the last admin (system)", system, otherAdmin, ChangeRole, RoleOfficer, 1, ECONFLICT},
		{"demote a disabled admin", system, disabledAdmin, ChangeRole, RoleOfficer, 1, ""},
		{"a staff password", admin, officer, ChangePassword, "", 1, ""},
		{"one's own password", admin, self, ChangePassword, "", 1, ""},
		{"a taxpayer's password", admin, taxpayer, ChangePassword, "", 1, ECONFLICT},
	} {
		if got := ErrorCode(CheckAccountChange(c.actor, c.target, c.change, c.role, c.admins)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
