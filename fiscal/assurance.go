package fiscal

// Assurance is how sure the department is that an account is the person of
// its taxpayer record (users.assurance).
//
// The same type, values and column come with the OpenID Connect half of
// issue 19 (branch i19a, fiscal/identity.go and migration 0019): when the
// two are merged, this file and the ALTER TABLE of users.assurance in
// migration 0020 give way to those.
type Assurance string

// The assurance levels of an account.
const (
	// AssurancePassword: a password-only account linked to a record that
	// existed before it.
	AssurancePassword Assurance = "password"
	// AssuranceSelf: a self-registered account that created its record.
	AssuranceSelf Assurance = "self"
	// AssuranceVerified: the national identity provider vouched for the
	// person, or the person proved a one-time enrollment code the
	// department issued for the taxpayer on file.
	AssuranceVerified Assurance = "verified"
)
