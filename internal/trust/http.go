package trust

import (
	"io"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"
)

// Handler serves the authority over HTTP: POST /tsa (RFC 3161,
// application/timestamp-query), POST /ocsp (RFC 6960), GET /crl and GET
// /ca.pem. now is the clock.
func (a *Authority) Handler(now func() time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tsa", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "unreadable request", http.StatusBadRequest)
			return
		}
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, "not a timestamp request", http.StatusBadRequest)
			return
		}
		resp, err := a.timestampResponse(req, now())
		if err != nil {
			http.Error(w, "timestamp failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	})
	mux.HandleFunc("POST /ocsp", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<10))
		if err != nil {
			http.Error(w, "unreadable request", http.StatusBadRequest)
			return
		}
		req, err := ocsp.ParseRequest(body)
		if err != nil {
			http.Error(w, "not an OCSP request", http.StatusBadRequest)
			return
		}
		resp, err := a.ocspFor(r.Context(), req.SerialNumber, now())
		if err != nil {
			w.Header().Set("Content-Type", "application/ocsp-response")
			w.Write(ocsp.InternalErrorErrorResponse)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(resp)
	})
	mux.HandleFunc("GET /crl", func(w http.ResponseWriter, r *http.Request) {
		crl, err := a.CRL(r.Context(), now())
		if err != nil {
			http.Error(w, "CRL failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(crl)
	})
	mux.HandleFunc("GET /ca.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(a.ChainPEM())
	})
	return mux
}
