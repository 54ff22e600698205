package platformsim

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
)

// CertificatePDF writes a one-page PDF 1.4 certificate: Helvetica text (ASCII only, the
// standard font has no Chinese glyphs, so the Chinese title goes into the document info)
// and a red "seal" circle. The output depends only on the arguments, so its sha256 is stable.
func CertificatePDF(titleEn, titleZh, holder, pickupID string) []byte {
	var content bytes.Buffer
	// The seal: a circle of four Bezier arcs, 0.5523 being the usual control-point factor.
	cx, cy, r := 430.0, 250.0, 60.0
	k := 0.5523 * r
	fmt.Fprintf(&content, "q 0.8 0 0 RG 4 w\n%.1f %.1f m\n", cx+r, cy)
	fmt.Fprintf(&content, "%.1f %.1f %.1f %.1f %.1f %.1f c\n", cx+r, cy+k, cx+k, cy+r, cx, cy+r)
	fmt.Fprintf(&content, "%.1f %.1f %.1f %.1f %.1f %.1f c\n", cx-k, cy+r, cx-r, cy+k, cx-r, cy)
	fmt.Fprintf(&content, "%.1f %.1f %.1f %.1f %.1f %.1f c\n", cx-r, cy-k, cx-k, cy-r, cx, cy-r)
	fmt.Fprintf(&content, "%.1f %.1f %.1f %.1f %.1f %.1f c\nS Q\n", cx+k, cy-r, cx+r, cy-k, cx+r, cy)
	text := func(size, x, y int, s string) {
		fmt.Fprintf(&content, "BT /F1 %d Tf %d %d Td (%s) Tj ET\n", size, x, y, pdfString(s))
	}
	content.WriteString("0 0 0 rg\n")
	text(24, 72, 740, titleEn)
	text(12, 72, 700, "Holder: "+holder)
	text(12, 72, 680, "Pickup: "+pickupID)
	text(10, 72, 660, "Issued by the central approval platform (Hallkiosk simulator)")
	content.WriteString("0.8 0 0 rg\n")
	text(14, int(cx)-22, int(cy)-5, "SEAL")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		fmt.Sprintf("<< /Title %s /Producer (hallkiosk platformsim) >>", pdfUTF16(titleZh+" "+titleEn)),
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") // the binary comment marks the file as binary
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return out.Bytes()
}

// pdfString escapes s for a literal string; characters Helvetica cannot show become '?'.
func pdfString(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '(' || c == ')' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// pdfUTF16 is a hex text string in UTF-16BE with a byte-order mark, for any Unicode.
func pdfUTF16(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}
