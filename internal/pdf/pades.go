package pdf

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"fiscald/internal/cades"
)

// PAdES signs the PDFs the service generates in the PAdES baseline profile
// (ETSI EN 319 142-1): SubFilter ETSI.CAdES.detached, no signingTime
// attribute, signing-certificate-v2 (B-B); an RFC 3161 signature timestamp
// (B-T); then a second incremental update with the Document Security Store
// (the certificates, OCSP responses and CRLs a verifier needs later, B-LT).
// digitorus/pdfsign cannot write these, so the updates are written here,
// for the classic cross-reference tables fpdf produces.
type PAdES struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate // the issuers, up to the root
	// TSA timestamps the signature (required).
	TSA cades.Timestamper
	// Validation returns the revocation data of the certificates (OCSP
	// responses, CRLs, DER) for the DSS; nil stops at B-T.
	Validation func(certs []*x509.Certificate) (ocsps, crls [][]byte, err error)
	// Extra certificates for the DSS (the TSA's).
	Extra []*x509.Certificate
	// LTA adds a document timestamp after the DSS (B-LTA).
	LTA bool
}

// contentsSize is the room reserved for the CMS (bytes; twice as many hex digits).
const contentsSize = 16 << 10

// Sign returns pdf signed B-T, B-LT when p.Validation is set, B-LTA when
// p.LTA is set too.
func (p *PAdES) Sign(pdf []byte, info SignInfo) ([]byte, error) {
	if p.Cert == nil || p.Key == nil || p.TSA == nil {
		return nil, errors.New("pades: certificate, key and TSA are required")
	}
	if info.Time.IsZero() {
		return nil, errors.New("pades: signing time is required")
	}
	if info.Time.Before(p.Cert.NotBefore) || info.Time.After(p.Cert.NotAfter) {
		return nil, fmt.Errorf("pades: certificate %q is not valid on %s", p.Cert.Subject.CommonName, info.Time.Format(time.RFC3339))
	}
	out, err := p.signBT(pdf, info)
	if err != nil || p.Validation == nil {
		return out, err
	}
	certs := append(append([]*x509.Certificate{p.Cert}, p.Chain...), p.Extra...)
	ocsps, crls, err := p.Validation(certs)
	if err != nil {
		return nil, fmt.Errorf("pades: validation data: %w", err)
	}
	ders := make([][]byte, len(certs))
	for i, c := range certs {
		ders[i] = c.Raw
	}
	if out, err = AddDSS(out, ders, ocsps, crls); err != nil || !p.LTA {
		return out, err
	}
	return AddDocTimestamp(out, p.TSA)
}

func (p *PAdES) signBT(pdf []byte, info SignInfo) ([]byte, error) {
	f, page, pageBody, catBody, err := openForUpdate(pdf)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(catBody, []byte("/AcroForm")) {
		return nil, errors.New("pades: the document already has a form (signed once?)")
	}
	u := newPDFUpdate(f)
	sigBody := fmt.Sprintf("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached\n/ByteRange [0 %s %s %s]\n/Contents <%s>\n/M (%s) /Name %s /Reason %s /Location %s >>",
		brPlaceholder, brPlaceholder, brPlaceholder, bytes.Repeat([]byte("0"), 2*contentsSize), pdfDate(info.Time),
		textString(info.Name), textString(info.Reason), textString(info.Location))
	sig := u.add([]byte(sigBody))
	widget := u.add([]byte(fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T %s /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d 0 R >>",
		textString("Semnătura"), sig, page)))
	if i := bytes.Index(pageBody, []byte("/Annots [")); i >= 0 {
		j := i + len("/Annots [")
		pageBody = append(append(append([]byte{}, pageBody[:j]...), []byte(fmt.Sprintf("%d 0 R ", widget))...), pageBody[j:]...)
	} else if bytes.Contains(pageBody, []byte("/Annots")) {
		return nil, errors.New("pades: the page's /Annots is not an inline array")
	} else {
		pageBody = append(pageBody, []byte(fmt.Sprintf("\n/Annots [%d 0 R]", widget))...)
	}
	u.objs[page] = []byte("<<" + string(pageBody) + "\n>>")
	u.objs[f.root] = []byte(fmt.Sprintf("<<%s\n/AcroForm << /Fields [%d 0 R] /SigFlags 3 >>\n/Extensions << /ESIC << /BaseVersion /1.7 /ExtensionLevel 2 >> >>\n>>", catBody, widget))
	out := u.write()

	// The byte range: everything but the hex string of /Contents.
	at := bytes.LastIndex(out, []byte("/ByteRange [0 "+brPlaceholder))
	if at < 0 {
		return nil, errors.New("pades: placeholder lost")
	}
	lt := bytes.Index(out[at:], []byte("/Contents <"))
	lt += at + len("/Contents ")
	gt := lt + 1 + 2*contentsSize
	if out[gt] != '>' {
		return nil, errors.New("pades: placeholder size")
	}
	br := fmt.Sprintf("/ByteRange [0 %010d %010d %010d]", lt, gt+1, len(out)-gt-1)
	copy(out[at:], br)
	h := sha256.New()
	h.Write(out[:lt])
	h.Write(out[gt+1:])
	cms, err := cades.Sign(h.Sum(nil), p.Cert, p.Chain, p.Key, nil)
	if err != nil {
		return nil, err
	}
	if cms, err = cades.AddTimestamp(cms, p.TSA); err != nil {
		return nil, err
	}
	if len(cms) > contentsSize {
		return nil, fmt.Errorf("pades: the signature (%d bytes) does not fit in %d", len(cms), contentsSize)
	}
	hex.Encode(out[lt+1:], cms)
	return out, nil
}

const brPlaceholder = "0000000000"

func pdfDate(t time.Time) string {
	return t.UTC().Format("D:20060102150405") + "+00'00'"
}

// AddDSS appends the Document Security Store (PAdES B-LT): certificates,
// OCSP responses and CRLs as streams, referenced from the catalog's /DSS.
func AddDSS(pdf []byte, certs, ocsps, crls [][]byte) ([]byte, error) {
	f, err := parsePDF(pdf)
	if err != nil {
		return nil, err
	}
	catObj, err := f.object(f.root)
	if err != nil {
		return nil, err
	}
	catBody, err := dictBody(catObj)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(catBody, []byte("/DSS")) {
		return nil, errors.New("pades: the document already has a DSS")
	}
	u := newPDFUpdate(f)
	refs := func(items [][]byte) string {
		var b bytes.Buffer
		b.WriteString("[")
		for i, it := range items {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%d 0 R", u.add(streamObject(it)))
		}
		b.WriteString("]")
		return b.String()
	}
	dss := fmt.Sprintf("<< /Type /DSS /Certs %s /OCSPs %s /CRLs %s >>", refs(certs), refs(ocsps), refs(crls))
	d := u.add([]byte(dss))
	u.objs[f.root] = []byte(fmt.Sprintf("<<%s\n/DSS %d 0 R\n>>", catBody, d))
	return u.write(), nil
}
