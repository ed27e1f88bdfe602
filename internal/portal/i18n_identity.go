package portal

import "regexp"

// The catalog of the enrollment-code page and the admin's account page,
// merged into messages at start (same keys in both languages:
// TestCatalogComplete).
var identityMessages = map[string]map[string]string{
	RO: {
		"selfenroll.title":      "Am un cod de înrolare",
		"selfenroll.intro":      "Sunteți deja în evidența Direcției Fiscale? Deschideți-vă contul online cu codul de înrolare primit de la ghișeu sau tipărit pe înștiințarea de plată. Câmpurile marcate cu * sunt obligatorii.",
		"selfenroll.code":       "Codul de înrolare",
		"selfenroll.code.hint":  "16 litere și cifre, de exemplu ABCD-EFGH-JKMN-PQRS.",
		"selfenroll.cui":        "CUI (firme)",
		"selfenroll.cnp.hint":   "CNP-ul persoanei pentru care a fost emis codul (sau, pentru o firmă, CUI-ul mai jos).",
		"selfenroll.submit":     "Deschide contul",
		"selfenroll.hasaccount": "Acest contribuabil are deja un cont online: intrați în cont sau cereți ajutor la ghișeu.",
		"selfenroll.link":       "Sunteți deja în evidență? Am un cod de înrolare",
		"err.registered_enroll": "Există deja un contribuabil înregistrat cu acest cod. Deschideți-vă contul cu codul de înrolare primit de la Direcția Fiscală (pagina „Am un cod de înrolare”) sau intrați cu ROeID.",
		"err.enroll_code":       "Codul nu este valabil pentru acest CNP/CUI (greșit, folosit sau expirat).",
		"err.enroll_format":     "Introduceți cele 16 litere și cifre ale codului primit.",
		"nav.enroll":            "Coduri de înrolare",
		"enroll.title":          "Cod de înrolare pentru un contribuabil",
		"enroll.intro":          "Un contribuabil din evidență care nu are cont online își poate deschide unul cu un cod de unică folosință. Căutați contribuabilul, verificați actul de identitate al persoanei, emiteți codul și înmânați-i-l.",
		"enroll.issue":          "Emite codul de înrolare",
		"enroll.replaces":       "Un cod nou îl anulează pe cel emis anterior pentru acest contribuabil.",
		"enroll.code":           "Codul de înrolare",
		"enroll.expires":        "Valabil până la",
		"enroll.once":           "Codul este afișat o singură dată: notați-l sau tipăriți pagina acum.",
		"enroll.howto":          "Persoana își deschide contul online cu acest cod, CNP-ul (sau CUI-ul) ei, un nume de utilizator și o parolă.",
		"enroll.hasaccount":     "Acest contribuabil are deja un cont online.",
		"users.status":          "Stare",
		"users.active":          "Activ",
		"users.disabled":        "Dezactivat",
		"user.title":            "Cont de personal",
		"user.status.h":         "Accesul",
		"user.disable":          "Dezactivează contul",
		"user.disable.hint":     "Sesiunile deschise se închid imediat, pe toate serverele; cererile sale deschise revin în coada de lucru; cheia sa de semnare nu mai semnează pași noi (pașii semnați rămân valabili).",
		"user.enable":           "Reactivează contul",
		"user.role.h":           "Rolul",
		"user.role.hint":        "Sesiunile deschise ale contului se închid imediat.",
		"user.role.submit":      "Schimbă rolul",
		"user.password.h":       "Parola",
		"user.password":         "Parola nouă",
		"user.password.hint":    "Cel puțin 10 caractere; sesiunile deschise ale contului se închid imediat.",
		"user.password.submit":  "Setează parola",
		"user.saved":            "Modificarea a fost salvată.",
		"user.err.status":       "Nu vă puteți dezactiva propriul cont, iar ultimul administrator activ rămâne activ.",
		"user.err.role":         "Nu vă puteți retrage propriul rol de administrator, iar ultimul administrator activ rămâne administrator.",
		"user.err.password":     "Parola unui contribuabil o setează doar contribuabilul.",
	},
	EN: {
		"selfenroll.title":      "I have an enrollment code",
		"selfenroll.intro":      "Already on file with the tax department? Open your online account with the enrollment code handed to you at the desk or printed on your tax notice. Fields marked * are required.",
		"selfenroll.code":       "Enrollment code",
		"selfenroll.code.hint":  "16 letters and digits, for example ABCD-EFGH-JKMN-PQRS.",
		"selfenroll.cui":        "CUI (companies)",
		"selfenroll.cnp.hint":   "The CNP of the person the code was issued for (or, for a company, the CUI below).",
		"selfenroll.submit":     "Open the account",
		"selfenroll.hasaccount": "This taxpayer already has an online account: sign in, or ask at the desk.",
		"selfenroll.link":       "Already on file? I have an enrollment code",
		"err.registered_enroll": "A taxpayer with this code is already registered. Open your account with the enrollment code from the tax department (the “I have an enrollment code” page) or sign in with ROeID.",
		"err.enroll_code":       "The code is not valid for this CNP/CUI (wrong, used or expired).",
		"err.enroll_format":     "Enter the 16 letters and digits of the code you received.",
		"nav.enroll":            "Enrollment codes",
		"enroll.title":          "Enrollment code for a taxpayer",
		"enroll.intro":          "A taxpayer on file without an online account can open one with a one-time code. Find the taxpayer, check the person's identity document, issue the code and hand it over.",
		"enroll.issue":          "Issue the enrollment code",
		"enroll.replaces":       "A new code cancels the one issued before for this taxpayer.",
		"enroll.code":           "Enrollment code",
		"enroll.expires":        "Valid until",
		"enroll.once":           "The code is shown only once: write it down or print this page now.",
		"enroll.howto":          "The person opens their online account with this code, their CNP (or CUI), a username and a password.",
		"enroll.hasaccount":     "This taxpayer already has an online account.",
		"users.status":          "Status",
		"users.active":          "Active",
		"users.disabled":        "Disabled",
		"user.title":            "Staff account",
		"user.status.h":         "Access",
		"user.disable":          "Disable the account",
		"user.disable.hint":     "Open sessions end at once, on every server; the account's open cases return to the queue; its signing key signs no new steps (signed steps stay valid).",
		"user.enable":           "Enable the account",
		"user.role.h":           "Role",
		"user.role.hint":        "The account's open sessions end at once.",
		"user.role.submit":      "Change the role",
		"user.password.h":       "Password",
		"user.password":         "New password",
		"user.password.hint":    "At least 10 characters; the account's open sessions end at once.",
		"user.password.submit":  "Set the password",
		"user.saved":            "The change was saved.",
		"user.err.status":       "You cannot disable your own account, and the last enabled admin stays enabled.",
		"user.err.role":         "You cannot give up your own admin role, and the last enabled admin stays an admin.",
		"user.err.password":     "A taxpayer's password is set by the taxpayer only.",
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
	fieldRules = append([]struct {
		re  *regexp.Regexp
		key string
	}{
		{regexp.MustCompile(`^already registered; enroll`), "err.registered_enroll"},
		{regexp.MustCompile(`^is not valid for this CNP/CUI`), "err.enroll_code"},
		{regexp.MustCompile(`^must be the 16 letters and digits`), "err.enroll_format"},
	}, fieldRules...)
}
