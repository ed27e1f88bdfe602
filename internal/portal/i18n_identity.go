package portal

// The catalog of the enrollment-code page and the admin's account page,
// merged into messages at start (same keys in both languages:
// TestCatalogComplete).
var identityMessages = map[string]map[string]string{
	RO: {
		"nav.enroll":           "Coduri de înrolare",
		"enroll.title":         "Cod de înrolare pentru un contribuabil",
		"enroll.intro":         "Un contribuabil din evidență care nu are cont online își poate deschide unul cu un cod de unică folosință. Căutați contribuabilul, verificați actul de identitate al persoanei, emiteți codul și înmânați-i-l.",
		"enroll.issue":         "Emite codul de înrolare",
		"enroll.replaces":      "Un cod nou îl anulează pe cel emis anterior pentru acest contribuabil.",
		"enroll.code":          "Codul de înrolare",
		"enroll.expires":       "Valabil până la",
		"enroll.once":          "Codul este afișat o singură dată: notați-l sau tipăriți pagina acum.",
		"enroll.howto":         "Persoana își deschide contul online cu acest cod, CNP-ul (sau CUI-ul) ei, un nume de utilizator și o parolă.",
		"enroll.hasaccount":    "Acest contribuabil are deja un cont online.",
		"users.status":         "Stare",
		"users.active":         "Activ",
		"users.disabled":       "Dezactivat",
		"user.title":           "Cont de personal",
		"user.status.h":        "Accesul",
		"user.disable":         "Dezactivează contul",
		"user.disable.hint":    "Sesiunile deschise se închid imediat, pe toate serverele; cererile sale deschise revin în coada de lucru; cheia sa de semnare nu mai semnează pași noi (pașii semnați rămân valabili).",
		"user.enable":          "Reactivează contul",
		"user.role.h":          "Rolul",
		"user.role.hint":       "Sesiunile deschise ale contului se închid imediat.",
		"user.role.submit":     "Schimbă rolul",
		"user.password.h":      "Parola",
		"user.password":        "Parola nouă",
		"user.password.hint":   "Cel puțin 10 caractere; sesiunile deschise ale contului se închid imediat.",
		"user.password.submit": "Setează parola",
		"user.saved":           "Modificarea a fost salvată.",
		"user.err.status":      "Nu vă puteți dezactiva propriul cont, iar ultimul administrator activ rămâne activ.",
		"user.err.role":        "Nu vă puteți retrage propriul rol de administrator, iar ultimul administrator activ rămâne administrator.",
		"user.err.password":    "Parola unui contribuabil o setează doar contribuabilul.",
	},
	EN: {
		"nav.enroll":           "Enrollment codes",
		"enroll.title":         "Enrollment code for a taxpayer",
		"enroll.intro":         "A taxpayer on file without an online account can open one with a one-time code. Find the taxpayer, check the person's identity document, issue the code and hand it over.",
		"enroll.issue":         "Issue the enrollment code",
		"enroll.replaces":      "A new code cancels the one issued before for this taxpayer.",
		"enroll.code":          "Enrollment code",
		"enroll.expires":       "Valid until",
		"enroll.once":          "The code is shown only once: write it down or print this page now.",
		"enroll.howto":         "The person opens their online account with this code, their CNP (or CUI), a username and a password.",
		"enroll.hasaccount":    "This taxpayer already has an online account.",
		"users.status":         "Status",
		"users.active":         "Active",
		"users.disabled":       "Disabled",
		"user.title":           "Staff account",
		"user.status.h":        "Access",
		"user.disable":         "Disable the account",
		"user.disable.hint":    "Open sessions end at once, on every server; the account's open cases return to the queue; its signing key signs no new steps (signed steps stay valid).",
		"user.enable":          "Enable the account",
		"user.role.h":          "Role",
		"user.role.hint":       "The account's open sessions end at once.",
		"user.role.submit":     "Change the role",
		"user.password.h":      "Password",
		"user.password":        "New password",
		"user.password.hint":   "At least 10 characters; the account's open sessions end at once.",
		"user.password.submit": "Set the password",
		"user.saved":           "The change was saved.",
		"user.err.status":      "You cannot disable your own account, and the last enabled admin stays enabled.",
		"user.err.role":        "You cannot give up your own admin role, and the last enabled admin stays an admin.",
		"user.err.password":    "A taxpayer's password is set by the taxpayer only.",
	},
}

func init() {
	for lang, m := range identityMessages {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("portal: message key defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
}
