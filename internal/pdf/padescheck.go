package pdf

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/crypto/ocsp"

	"fiscald/internal/cades"
)

// PAdESLevel is a PAdES baseline level (ETSI EN 319 142-1).
type PAdESLevel int

// The levels CheckPAdES tells apart.
const (
	PAdESNone PAdESLevel = iota
	PAdESBB
	PAdESBT
	PAdESBLT
	PAdESBLTA
)

func (l PAdESLevel) String() string {
	return [...]string{"none", "B-B", "B-T", "B-LT", "B-LTA"}[l]
}

// PAdESReport is what CheckPAdES found.
type PAdESReport struct {
	Level     PAdESLevel
	Signer    *x509.Certificate
	Timestamp time.Time
	// ArchiveTimestamp is the B-LTA document timestamp's time.
	ArchiveTimestamp time.Time
}

// ErrPAdES is wrapped by every failure of CheckPAdES.
var ErrPAdES = errors.New("not a valid PAdES signature")

var (
	reByteRange = regexp.MustCompile(`/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
	reDSSArray  = func(key string) *regexp.Regexp { return regexp.MustCompile(`/` + key + `\s*\[([^\]]*)\]`) }
	reRefNum    = regexp.MustCompile(`(\d+)\s+0\s+R`)
)

// CheckPAdES is the in-repo profile checker for the documents fiscald
// signs: exactly one signature, /SubFilter /ETSI.CAdES.detached, a byte
// range covering its whole revision, a CAdES signature over it with
// signing-certificate-v2 and no signingTime that chains to roots (B-B); a
// valid signature timestamp (B-T); after it, only an update adding the
// DSS with every certificate of the chain and the TSA's and revocation
// data (verified OCSP "good", or a CRL not listing it) for the signer's and
// the TSA's certificates (B-LT). Any other change after signing fails.
func CheckPAdES(pdf []byte, roots *x509.CertPool) (*PAdESReport, error) {
	bad := func(f string, a ...any) (*PAdESReport, error) {
		return nil, fmt.Errorf("%w: "+f, append([]any{ErrPAdES}, a...)...)
	}
	if n := bytes.Count(pdf, []byte("/Type /Sig ")); n != 1 {
		return bad("%d signature dictionaries, want 1", n)
	}
	if bytes.Count(pdf, []byte("/SubFilter /ETSI.CAdES.detached")) != 1 {
		return bad("the signature is not /SubFilter /ETSI.CAdES.detached")
	}
	m := reByteRange.FindSubmatch(pdf)
	if m == nil {
		return bad("no /ByteRange")
	}
	a, _ := strconv.Atoi(string(m[1]))
	b, _ := strconv.Atoi(string(m[2]))
	c, _ := strconv.Atoi(string(m[3]))
	end := b + c
	if a <= 0 || b <= a+1 || end > len(pdf) || pdf[a] != '<' || pdf[b-1] != '>' {
		return bad("the byte range does not frame the signature's /Contents")
	}
	if !bytes.HasSuffix(bytes.TrimRight(pdf[:end], "\r\n"), []byte("%%EOF")) {
		return bad("the byte range does not end at the end of a revision")
	}
	cms := make([]byte, hex.DecodedLen(b-1-a-1))
	if _, err := hex.Decode(cms, pdf[a+1:b-1]); err != nil {
		return bad("/Contents is not hex")
	}
	h := sha256.New()
	h.Write(pdf[:a])
	h.Write(pdf[b:end])
	info, err := cades.Verify(trimDER(cms), h.Sum(nil), roots, time.Now())
	if err != nil {
		return bad("%v", err)
	}
	if !info.SigningTime.IsZero() {
		return bad("the CMS has a signingTime attribute (PAdES baseline forbids it)")
	}
	rep := &PAdESReport{Level: PAdESBB, Signer: info.Signer, Timestamp: info.Timestamp}
	if !info.Timestamp.IsZero() {
		rep.Level = PAdESBT
	}
	if end == len(pdf) {
		return rep, nil
	}
	// Updates after the signature: only the DSS.
	if rep.Level < PAdESBT {
		return bad("a B-B signature followed by updates")
	}
	dssEnd := len(pdf)
	if i := reDocTS.FindIndex(pdf); i != nil && i[0] > end {
		// B-LTA: the DSS update ends where the document timestamp's begins.
		k := bytes.LastIndex(pdf[:i[0]], []byte("%%EOF"))
		if k < end {
			return bad("a document timestamp without a DSS before it")
		}
		dssEnd = k + len("%%EOF")
		for dssEnd < len(pdf) && (pdf[dssEnd] == '\r' || pdf[dssEnd] == '\n') {
			dssEnd++
		}
	}
	if err := checkDSSUpdate(pdf[:dssEnd], end, info, roots); err != nil {
		return bad("%v", err)
	}
	rep.Level = PAdESBLT
	if dssEnd == len(pdf) {
		return rep, nil
	}
	err = checkDocTimestamp(pdf, dssEnd, func(token, digest []byte) error {
		ts, err := cades.VerifyToken(token, roots)
		if err != nil {
			return err
		}
		if !bytes.Equal(ts.HashedMessage, digest) {
			return errors.New("the token does not cover the document")
		}
		rep.ArchiveTimestamp = ts.Time
		return nil
	})
	if err != nil {
		return bad("%v", err)
	}
	rep.Level = PAdESBLTA
	return rep, nil
}

// trimDER cuts b to its first DER element: the zeros after it pad the
// room reserved for /Contents.
func trimDER(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	n, hdr := int(b[1]), 2
	if b[1]&0x80 != 0 {
		k := int(b[1] & 0x7f)
		if k > 4 || len(b) < 2+k {
			return b
		}
		n, hdr = 0, 2+k
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
	}
	if hdr+n > len(b) {
		return b
	}
	return b[:hdr+n]
}

func checkDSSUpdate(pdf []byte, signedEnd int, info *cades.Info, roots *x509.CertPool) error {
	f, err := parsePDF(pdf)
	if err != nil {
		return err
	}
	before, err := parsePDF(pdf[:signedEnd])
	if err != nil {
		return err
	}
	// The objects the updates after the signature define.
	added := map[int]bool{}
	for _, s := range f.sections {
		if s.offset < signedEnd {
			break
		}
		for _, n := range s.objects {
			if f.offsets[n] < signedEnd {
				return fmt.Errorf("object %d of a later update lies in the signed part", n)
			}
			added[n] = true
		}
	}
	if len(added) == 0 {
		return errors.New("bytes after the signed revision that are not an update")
	}
	if f.root != before.root {
		return errors.New("an update after signing replaced the catalog")
	}
	cat, err := f.object(f.root)
	if err != nil {
		return err
	}
	catBody, err := dictBody(cat)
	if err != nil {
		return err
	}
	dssNum := atoiMatch(reRef("DSS"), catBody)
	if dssNum == 0 || !added[dssNum] {
		return errors.New("an update after signing that is not a DSS")
	}
	oldCat, _ := before.object(before.root)
	oldBody, _ := dictBody(oldCat)
	if !bytes.Equal(bytes.Join(bytes.Fields(reRef("DSS").ReplaceAll(catBody, nil)), nil), bytes.Join(bytes.Fields(oldBody), nil)) {
		return errors.New("the update after signing changes the catalog beyond adding the DSS")
	}
	dss, err := f.object(dssNum)
	if err != nil {
		return err
	}
	allowed := map[int]bool{f.root: true, dssNum: true}
	streams := map[string][][]byte{}
	for _, key := range []string{"Certs", "OCSPs", "CRLs"} {
		am := reDSSArray(key).FindSubmatch(dss)
		if am == nil {
			continue
		}
		for _, r := range reRefNum.FindAllSubmatch(am[1], -1) {
			n, _ := strconv.Atoi(string(r[1]))
			data, err := f.stream(n)
			if err != nil {
				return err
			}
			allowed[n] = true
			streams[key] = append(streams[key], data)
		}
	}
	for n := range added {
		if !allowed[n] {
			return fmt.Errorf("an update after signing changes object %d", n)
		}
	}
	certs := map[string]*x509.Certificate{}
	for _, d := range streams["Certs"] {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return fmt.Errorf("DSS certificate: %v", err)
		}
		certs[string(c.Raw)] = c
	}
	var crls []*x509.RevocationList
	for _, d := range streams["CRLs"] {
		l, err := x509.ParseRevocationList(d)
		if err != nil {
			return fmt.Errorf("DSS CRL: %v", err)
		}
		crls = append(crls, l)
	}
	// The signer's and the TSA's chains must be in the DSS, each
	// certificate below the root with its revocation status.
	need := []*x509.Certificate{info.Signer}
	if info.TimestampToken != nil {
		if ts, err := cades.VerifyToken(info.TimestampToken, roots); err == nil {
			for _, c := range ts.Certificates {
				for _, u := range c.ExtKeyUsage {
					if u == x509.ExtKeyUsageTimeStamping {
						need = append(need, c)
					}
				}
			}
		}
	}
	if len(need) < 2 {
		return errors.New("the TSA's certificate is not found")
	}
	for _, leaf := range need {
		inter := x509.NewCertPool()
		for _, c := range certs {
			inter.AddCert(c)
		}
		chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: info.Timestamp,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return fmt.Errorf("%s: the DSS does not hold its chain: %v", leaf.Subject.CommonName, err)
		}
		chain := chains[0]
		for i, c := range chain[:len(chain)-1] {
			if certs[string(c.Raw)] == nil {
				return fmt.Errorf("the DSS lacks the certificate of %s", c.Subject.CommonName)
			}
			if !hasStatus(c, chain[i+1], streams["OCSPs"], crls) {
				return fmt.Errorf("the DSS has no revocation data showing %s not revoked", c.Subject.CommonName)
			}
		}
	}
	return nil
}

// hasStatus says the DSS proves c (issued by issuer) not revoked: an OCSP
// response "good" signed for issuer, or a CRL of issuer not listing it.
func hasStatus(c, issuer *x509.Certificate, ocsps [][]byte, crls []*x509.RevocationList) bool {
	for _, d := range ocsps {
		r, err := ocsp.ParseResponseForCert(d, c, issuer)
		if err == nil && r.Status == ocsp.Good {
			return true
		}
	}
	for _, l := range crls {
		if l.CheckSignatureFrom(issuer) != nil {
			continue
		}
		listed := false
		for _, e := range l.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				listed = true
			}
		}
		if !listed {
			return true
		}
	}
	return false
}

// stream is the data of stream object n (unfiltered streams only).
func (f *pdfFile) stream(n int) ([]byte, error) {
	obj, err := f.object(n)
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`^\s*<<\s*/Length\s+(\d+)\s*>>\s*stream\r?\n`).FindSubmatchIndex(obj)
	if m == nil {
		return nil, fmt.Errorf("object %d is not a plain stream", n)
	}
	l, _ := strconv.Atoi(string(obj[m[2]:m[3]]))
	start := m[1]
	if start+l > len(obj) {
		return nil, fmt.Errorf("object %d: stream length", n)
	}
	return obj[start : start+l], nil
}

// signatureContents is the CMS of the document's (last) signature.
func signatureContents(pdf []byte) ([]byte, error) {
	m := reByteRange.FindAllSubmatch(pdf, -1)
	if m == nil {
		return nil, fmt.Errorf("%w: no /ByteRange", ErrPAdES)
	}
	last := m[len(m)-1]
	a, _ := strconv.Atoi(string(last[1]))
	b, _ := strconv.Atoi(string(last[2]))
	if a <= 0 || b <= a+1 || b > len(pdf) {
		return nil, fmt.Errorf("%w: bad /ByteRange", ErrPAdES)
	}
	cms := make([]byte, hex.DecodedLen(b-1-a-1))
	if _, err := hex.Decode(cms, pdf[a+1:b-1]); err != nil {
		return nil, fmt.Errorf("%w: /Contents is not hex", ErrPAdES)
	}
	return trimDER(cms), nil
}
