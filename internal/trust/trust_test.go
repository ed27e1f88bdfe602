package trust_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"fiscald/internal/trust"
)

type revoked map[string]time.Time

func (r revoked) RevokedAt(_ context.Context, serial *big.Int) (*time.Time, error) {
	if at, ok := r[serial.String()]; ok {
		return &at, nil
	}
	return nil, nil
}

func (r revoked) Revoked(context.Context) ([]trust.Revocation, error) {
	var out []trust.Revocation
	for s, at := range r {
		n, _ := new(big.Int).SetString(s, 10)
		out = append(out, trust.Revocation{Serial: n, At: at})
	}
	return out, nil
}

// TestAuthorityOverHTTP: the authority is made once and reloaded; on
// loopback its TSA answers RFC 3161 requests, its OCSP responder says good
// or revoked as the Status says, its CRL lists the revoked; the TSA's
// certificate has the critical timeStamping purpose OpenSSL requires.
func TestAuthorityOverHTTP(t *testing.T) {
	dir, now := t.TempDir(), time.Now()
	a, err := trust.Ensure(dir, "Municipiul Test", now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := trust.Ensure(dir, "Municipiul Test", now.Add(time.Hour))
	if err != nil || !again.Root.Equal(a.Root) || !again.Issuing.Equal(a.Issuing) || !again.TSA.Equal(a.TSA) {
		t.Fatalf("not reloaded: %v", err)
	}
	critical := false
	for _, e := range a.TSA.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			critical = e.Critical
		}
	}
	if !critical || len(a.TSA.ExtKeyUsage) != 1 || a.TSA.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		t.Fatal("the TSA's extended key usage is not a critical timeStamping")
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, err := a.Issue(trust.Person, pkix.Name{CommonName: "Ana"}, key.Public(), now)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := a.Issue(trust.Person, pkix.Name{CommonName: "Ion"}, key.Public(), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := good.Verify(x509.VerifyOptions{Roots: pool(a.Root), Intermediates: pool(a.Issuing), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Fatal(err)
	}
	a.UseStatus(revoked{bad.SerialNumber.String(): now.Add(-time.Minute).UTC().Truncate(time.Second)})
	srv := httptest.NewServer(a.Handler(time.Now))
	defer srv.Close()
	post := func(path, ctype string, body []byte) []byte {
		res, err := http.Post(srv.URL+path, ctype, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, b)
		}
		return b
	}
	req, err := timestamp.CreateRequest(bytes.NewReader([]byte("a step")), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true, Nonce: big.NewInt(42)})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(post("/tsa", "application/timestamp-query", req))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("a step"))
	if !bytes.Equal(ts.HashedMessage, h[:]) || ts.Nonce.Int64() != 42 || time.Since(ts.Time) > time.Minute {
		t.Fatalf("timestamp: %+v", ts)
	}
	if len(ts.Certificates) != 3 || !ts.Certificates[0].Equal(a.TSA) {
		t.Fatalf("certReq: want the TSA's certificate and its chain, got %d certificates", len(ts.Certificates))
	}
	// Without certReq the token carries no certificate (RFC 3161 2.4.1);
	// with SHA-512 the imprint is as asked; an imprint the TSA does not
	// take (SHA-224) is refused.
	req, _ = timestamp.CreateRequest(bytes.NewReader([]byte("a step")), &timestamp.RequestOptions{Hash: crypto.SHA512})
	tsNoCert, err := timestamp.Parse(mustToken(t, post("/tsa", "application/timestamp-query", req)))
	h512 := sha512.Sum512([]byte("a step"))
	if err != nil || len(tsNoCert.Certificates) != 0 || !bytes.Equal(tsNoCert.HashedMessage, h512[:]) || tsNoCert.HashAlgorithm != crypto.SHA512 {
		t.Fatalf("without certReq: %v %+v", err, tsNoCert)
	}
	req, _ = timestamp.CreateRequest(bytes.NewReader([]byte("a step")), &timestamp.RequestOptions{Hash: crypto.SHA224})
	if res, err := http.Post(srv.URL+"/tsa", "application/timestamp-query", bytes.NewReader(req)); err != nil || res.StatusCode != 400 {
		t.Fatalf("SHA-224: want 400, got %v %v", res, err)
	}
	for cert, want := range map[*x509.Certificate]int{good: ocsp.Good, bad: ocsp.Revoked} {
		q, err := ocsp.CreateRequest(cert, a.Issuing, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ocsp.ParseResponseForCert(post("/ocsp", "application/ocsp-request", q), cert, a.Issuing)
		if err != nil || r.Status != want {
			t.Fatalf("OCSP for %s: %+v %v", cert.Subject.CommonName, r, err)
		}
	}
	res, err := http.Get(srv.URL + "/crl")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(res.Body)
	res.Body.Close()
	crl, err := x509.ParseRevocationList(der)
	if err != nil || crl.CheckSignatureFrom(a.Issuing) != nil || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(bad.SerialNumber) != 0 {
		t.Fatalf("CRL: %v %+v", err, crl)
	}
	if res, err := http.Post(srv.URL+"/tsa", "application/timestamp-query", bytes.NewReader([]byte("junk"))); err != nil || res.StatusCode != 400 {
		t.Fatalf("junk request: %v %v", res, err)
	}
}

func pool(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

// mustToken is the TimeStampToken of a granted DER TimeStampResp.
func mustToken(t *testing.T, resp []byte) []byte {
	t.Helper()
	var r struct {
		Status asn1.RawValue
		Token  asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(resp, &r); err != nil || len(r.Token.FullBytes) == 0 {
		t.Fatalf("not a granted response: %v", err)
	}
	return r.Token.FullBytes
}
