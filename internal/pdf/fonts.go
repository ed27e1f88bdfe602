package pdf

import _ "embed"

// DejaVu Sans (Bitstream Vera licence, see fonts/LICENSE) draws the Romanian
// comma-below letters ș ț Ș Ț as they should be; the PDF core fonts cannot
// print them at all. The embedded faces are subsets (Latin, Greek, Cyrillic,
// punctuation: fonts/README.md says how they were made), because fpdf parses
// the whole font for every document. Only the regular face is embedded:
// bold is drawn by stroking it (renderer.font).
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
)

// fontFamily is the name under which the embedded faces are registered.
const fontFamily = "DejaVuSans"
