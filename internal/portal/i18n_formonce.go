package portal

// The catalog of forms sent twice (formonce.go), merged into messages at
// start like casesMessages.
var formOnceMessages = map[string]map[string]string{
	RO: {
		"form.busy":         "Formularul a fost deja trimis și este încă în lucru (sau răspunsul lui s-a pierdut pe drum). Nu îl trimiteți din nou: deschideți pagina din nou peste câteva momente pentru a vedea rezultatul.",
		"form.failed":       "Formularul fusese deja trimis, iar acea trimitere nu a reușit. Deschideți pagina din nou și completați formularul încă o dată.",
		"enroll.sent_twice": "Formularul fusese deja trimis: codul a fost emis atunci și se afișează o singură dată. Dacă nu l-ați văzut, emiteți un cod nou (îl înlocuiește pe cel de atunci).",
		// A registration or enrollment form sent again whose username and
		// password do not sign in: it names nobody (formonce.go, signedUp).
		"account.created_signin": "Contul a fost deja creat cu acest formular. Intrați în cont cu numele de utilizator și parola alese atunci.",
	},
	EN: {
		"form.busy":              "This form was already sent and is still being processed (or its answer was lost on the way). Do not send it again: open the page again in a few moments to see the result.",
		"form.failed":            "This form had already been sent, and that sending failed. Open the page again and fill in the form once more.",
		"enroll.sent_twice":      "This form had already been sent: the code was issued then and is shown only once. If you did not see it, issue a new code (it replaces the earlier one).",
		"account.created_signin": "An account was already created with this form. Sign in with the username and password chosen then.",
	},
}

func init() {
	for lang, m := range formOnceMessages {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("portal: message key defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
}
