// Package pdf renders the documents a municipality issues and signs them.
//
// It is the only package of the module that imports the PDF library
// (github.com/go-pdf/fpdf), the QR code library (github.com/skip2/go-qrcode)
// and the PDF signing library (github.com/digitorus/pdfsign).
//
// Render turns a Document (a municipality's header, a title, a number and a
// date, the legal basis, the holder, a body of paragraphs and tables, a
// signature block and a QR code of the verification URL) into an A4 PDF. Text
// is set in DejaVu Sans, embedded in the binary, so Romanian letters with
// comma below (ș ț Ș Ț) print correctly. Render never reads the clock: the
// same Document gives the same bytes.
//
// A Signer adds an ISO 32000 CMS signature (adbe.pkcs7.detached) to a rendered
// PDF. LoadSigner reads a configured certificate and key; EnsureDemoPKI makes
// (once) and reloads a self-made root CA and signing certificate for
// development and demonstrations.
package pdf
