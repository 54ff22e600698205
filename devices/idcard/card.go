package idcard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// CardType tells the three cards a GA 467 reader reads apart.
type CardType string

const (
	CardResident         CardType = "resident"          // 居民身份证
	CardForeignPermanent CardType = "foreign_permanent" // 外国人永久居留身份证 (2017)
	CardGATResidence     CardType = "gat_residence"     // 港澳台居民居住证
)

// Sizes of the blocks of a read answer.
const (
	TextSize  = 256  // the UCS-2LE text block
	PhotoSize = 1024 // the WLT photo
	// FingerprintSize is the largest fingerprint block: two 512-byte templates.
	FingerprintSize = 1024
)

// LongTerm is the ValidTo of a card that does not expire.
const LongTerm = "长期"

// ErrUnsupportedCard means the text block carries a card-type flag this package cannot
// decode, such as the 'Y' reportedly used by the 2023 foreign permanent resident card.
var ErrUnsupportedCard = errors.New("idcard: unsupported card type")

// Card is what a reader reads from an ID card. It holds sensitive personal information:
// log it as it is (slog, fmt and encoding/json all print it masked, as a value or a
// pointer, alone or nested; see mask.go), never copy fields into logs, and Wipe it when
// the session that used it ends.
type Card struct {
	Type CardType
	// Name is the Chinese name; on a foreign card the Chinese name if it has one.
	Name string
	// NameEN is the name in Latin letters, on foreign cards only.
	NameEN string
	// Sex is the GB/T 2261.1 code: "1" male, "2" female, "0" unknown, "9" unspecified.
	Sex string
	// Nation is the 2-digit GB 3304 code on a resident card, the 3-letter nationality on a
	// foreign card, and empty on a residence permit.
	Nation string
	Birth  string // YYYY-MM-DD
	// Address is empty on foreign cards, which have none.
	Address string
	// IDNumber is the citizen ID number, or the permanent resident number on a foreign card.
	IDNumber string
	// Issuer is the issuing authority; on foreign cards the accepting authority's code.
	Issuer    string
	ValidFrom string // YYYY-MM-DD
	ValidTo   string // YYYY-MM-DD or LongTerm
	// PassNumber and IssueCount are the HK/Macau/Taiwan travel permit number and how
	// often the permit was issued, on residence permits only.
	PassNumber string
	IssueCount string
	// CardVersion is the card version on foreign cards only.
	CardVersion string
	// Photo is the opaque WLT image. It stays in memory for the session only.
	Photo []byte
	// Fingerprint is two 512-byte templates when the reader was asked for them.
	Fingerprint []byte
	// AppendedAddress is the newest address appended to the card (command 30 03).
	AppendedAddress string
}

// fieldKind says how a text field is checked and converted.
type fieldKind int

const (
	plain       fieldKind = iota
	date                  // YYYYMMDD on the card, YYYY-MM-DD in Card
	dateOrLong            // as date, or LongTerm
	sexCode               // one of 0 1 2 9
	nationCode            // two digits
	nationality           // three capital letters
	number                // capital letters and digits, not empty
)

// field is one text field: its name in errors, its place in the block and its Card field.
type field struct {
	name      string
	off, size int
	kind      fieldKind
	ptr       func(*Card) *string
}

func fName(c *Card) *string        { return &c.Name }
func fNameEN(c *Card) *string      { return &c.NameEN }
func fSex(c *Card) *string         { return &c.Sex }
func fNation(c *Card) *string      { return &c.Nation }
func fBirth(c *Card) *string       { return &c.Birth }
func fAddress(c *Card) *string     { return &c.Address }
func fIDNumber(c *Card) *string    { return &c.IDNumber }
func fIssuer(c *Card) *string      { return &c.Issuer }
func fValidFrom(c *Card) *string   { return &c.ValidFrom }
func fValidTo(c *Card) *string     { return &c.ValidTo }
func fPassNumber(c *Card) *string  { return &c.PassNumber }
func fIssueCount(c *Card) *string  { return &c.IssueCount }
func fCardVersion(c *Card) *string { return &c.CardVersion }

// flagOffset is where the card-type character sits in the text block.
const flagOffset = 248

// Layouts of DEVICES.md 1.6. Bytes not covered are reserved and sent as spaces.
var layouts = map[CardType][]field{
	CardResident: {
		{"name", 0, 30, plain, fName},
		{"sex", 30, 2, sexCode, fSex},
		{"nation", 32, 4, nationCode, fNation},
		{"birth", 36, 16, date, fBirth},
		{"address", 52, 70, plain, fAddress},
		{"id number", 122, 36, number, fIDNumber},
		{"issuer", 158, 30, plain, fIssuer},
		{"valid from", 188, 16, date, fValidFrom},
		{"valid to", 204, 16, dateOrLong, fValidTo},
	},
	CardGATResidence: {
		{"name", 0, 30, plain, fName},
		{"sex", 30, 2, sexCode, fSex},
		{"birth", 36, 16, date, fBirth},
		{"address", 52, 70, plain, fAddress},
		{"id number", 122, 36, number, fIDNumber},
		{"issuer", 158, 30, plain, fIssuer},
		{"valid from", 188, 16, date, fValidFrom},
		{"valid to", 204, 16, dateOrLong, fValidTo},
		{"pass number", 220, 18, plain, fPassNumber},
		{"issue count", 238, 4, plain, fIssueCount},
	},
	CardForeignPermanent: {
		{"english name", 0, 120, plain, fNameEN},
		{"sex", 120, 2, sexCode, fSex},
		{"id number", 122, 30, number, fIDNumber},
		{"nationality", 152, 6, nationality, fNation},
		{"name", 158, 30, plain, fName},
		{"valid from", 188, 16, date, fValidFrom},
		{"valid to", 204, 16, dateOrLong, fValidTo},
		{"birth", 220, 16, date, fBirth},
		{"card version", 236, 4, plain, fCardVersion},
		{"issuer", 240, 8, plain, fIssuer},
	},
}

// typeFlags is the UCS-2 character at flagOffset for each card type.
var typeFlags = map[CardType]rune{CardResident: ' ', CardGATResidence: 'J', CardForeignPermanent: 'I'}

// cardType reads the card-type flag: blank for resident cards, 'I' and 'J' for the others.
func cardType(text []byte) (CardType, error) {
	flag := rune(binary.LittleEndian.Uint16(text[flagOffset:]))
	switch flag {
	case ' ', 0:
		return CardResident, nil
	case 'I':
		return CardForeignPermanent, nil
	case 'J':
		return CardGATResidence, nil
	case 'Y':
		return "", fmt.Errorf("%w: flag 'Y' (2023 foreign permanent resident card; layout not verified)", ErrUnsupportedCard)
	}
	return "", fmt.Errorf("%w: flag U+%04X", ErrUnsupportedCard, flag)
}

// DecodeText decodes the 256-byte UCS-2LE text block of any of the three card types.
func DecodeText(text []byte) (*Card, error) {
	if len(text) != TextSize {
		return nil, fmt.Errorf("idcard: text block is %d bytes, want %d", len(text), TextSize)
	}
	t, err := cardType(text)
	if err != nil {
		return nil, err
	}
	c := &Card{Type: t}
	for _, f := range layouts[t] {
		v, err := decodeField(text[f.off:f.off+f.size], f)
		if err != nil {
			return nil, fmt.Errorf("idcard: %s card: %w", t, err)
		}
		*f.ptr(c) = v
	}
	return c, nil
}

// decodeField converts one field to its Card form. Errors name the field but never quote
// its value, which is personal data.
func decodeField(b []byte, f field) (string, error) {
	s, err := decodeUCS2(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", f.name, err)
	}
	switch f.kind {
	case date, dateOrLong:
		if f.kind == dateOrLong && s == LongTerm {
			return s, nil
		}
		if len(s) != 8 || !allDigits(s) {
			return "", fmt.Errorf("%s is not an 8-digit date", f.name)
		}
		return s[:4] + "-" + s[4:6] + "-" + s[6:], nil
	}
	if err := checkKind(s, f); err != nil {
		return "", err
	}
	return s, nil
}

// checkKind checks the fields whose form the card fixes, in Card form.
func checkKind(s string, f field) error {
	switch f.kind {
	case sexCode:
		if SexName(s) == "" {
			return fmt.Errorf("%s is not one of the codes 0, 1, 2, 9", f.name)
		}
	case nationCode:
		if len(s) != 2 || !allDigits(s) {
			return fmt.Errorf("%s is not a 2-digit code", f.name)
		}
	case nationality:
		if len(s) != 3 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fmt.Errorf("%s is not a 3-letter code", f.name)
		}
	case number:
		if s == "" || strings.Trim(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fmt.Errorf("%s is empty or holds characters other than digits and capitals", f.name)
		}
	}
	return nil
}

// decodeUCS2 decodes little-endian UTF-16 and trims the trailing space and NUL padding.
// Control characters and unpaired surrogates left after trimming mean corrupt data.
func decodeUCS2(b []byte) (string, error) {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	r := utf16.Decode(u)
	n := len(r)
	for n > 0 && (r[n-1] == ' ' || r[n-1] == 0) {
		n--
	}
	r = r[:n]
	for _, c := range r {
		if c == unicode.ReplacementChar {
			return "", errors.New("unpaired UTF-16 surrogate")
		}
		if unicode.IsControl(c) {
			return "", errors.New("control character")
		}
	}
	return string(r), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// EncodeText is the inverse of DecodeText, for simulators and tests. It fails when a
// field does not fit, is malformed, or does not exist on the card's type, so a fixture
// never turns into bytes that decode differently.
func (c *Card) EncodeText() ([]byte, error) {
	layout, ok := layouts[c.Type]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedCard, c.Type)
	}
	text := make([]byte, TextSize)
	for i := 0; i < TextSize; i += 2 {
		text[i] = ' '
	}
	binary.LittleEndian.PutUint16(text[flagOffset:], uint16(typeFlags[c.Type]))
	used := map[string]bool{}
	for _, f := range layout {
		v := *f.ptr(c)
		used[f.name] = true
		enc, err := encodeField(v, f)
		if err != nil {
			return nil, fmt.Errorf("idcard: %s card: %w", c.Type, err)
		}
		copy(text[f.off:f.off+f.size], enc)
	}
	// A value in a field the card type does not have would be lost without a word.
	for _, f := range []struct {
		name string
		v    string
	}{{"address", c.Address}, {"nation", c.Nation}, {"english name", c.NameEN},
		{"pass number", c.PassNumber}, {"issue count", c.IssueCount}, {"card version", c.CardVersion}} {
		if f.v != "" && !used[f.name] && !(f.name == "nation" && used["nationality"]) {
			return nil, fmt.Errorf("idcard: %s card has no %s field", c.Type, f.name)
		}
	}
	return text, nil
}

// encodeField converts one Card field to its padded UCS-2LE bytes.
func encodeField(v string, f field) ([]byte, error) {
	switch f.kind {
	case date, dateOrLong:
		switch {
		case f.kind == dateOrLong && v == LongTerm:
		case len(v) == 10 && v[4] == '-' && v[7] == '-' && allDigits(v[:4]+v[5:7]+v[8:]):
			v = v[:4] + v[5:7] + v[8:]
		default:
			return nil, fmt.Errorf("%s is not a YYYY-MM-DD date", f.name)
		}
	default:
		if err := checkKind(v, f); err != nil {
			return nil, err
		}
	}
	var b []byte
	for _, u := range utf16.Encode([]rune(v)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	if len(b) > f.size {
		return nil, fmt.Errorf("%s is %d UTF-16 units, the card holds %d", f.name, len(b)/2, f.size/2)
	}
	// Round-trip through the decoder so that what cannot come back (trailing spaces,
	// control characters, invalid UTF-8) is refused here rather than altered silently.
	for len(b) < f.size {
		b = append(b, ' ', 0)
	}
	if got, err := decodeUCS2(b); err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	} else if got != v {
		return nil, fmt.Errorf("%s does not survive encoding (trailing spaces or invalid UTF-8)", f.name)
	}
	return b, nil
}

// DecodeBase decodes the data of a 30 01 answer: text length, photo length (both
// big-endian), text block, photo.
func DecodeBase(data []byte) (*Card, error) {
	parts, err := splitBlocks(data, 2)
	if err != nil {
		return nil, err
	}
	c, err := DecodeText(parts[0])
	if err != nil {
		return nil, err
	}
	c.Photo = cloneOrNil(parts[1])
	return c, nil
}

// DecodeWithFingerprint decodes the data of a 30 10 answer: text, photo and fingerprint
// lengths, then the three blocks. The fingerprint block is 1024, 512 or 0 bytes.
func DecodeWithFingerprint(data []byte) (*Card, error) {
	parts, err := splitBlocks(data, 3)
	if err != nil {
		return nil, err
	}
	c, err := DecodeText(parts[0])
	if err != nil {
		return nil, err
	}
	c.Photo = cloneOrNil(parts[1])
	c.Fingerprint = cloneOrNil(parts[2])
	return c, nil
}

// splitBlocks reads n big-endian block lengths and cuts the blocks that follow them.
func splitBlocks(data []byte, n int) ([][]byte, error) {
	if len(data) < 2*n {
		return nil, fmt.Errorf("idcard: card data is %d bytes, too short for %d block lengths", len(data), n)
	}
	parts := make([][]byte, n)
	off := 2 * n
	for i := range n {
		l := int(binary.BigEndian.Uint16(data[2*i:]))
		if off+l > len(data) {
			return nil, fmt.Errorf("idcard: card data is %d bytes, shorter than its block lengths say", len(data))
		}
		parts[i] = data[off : off+l]
		off += l
	}
	if off != len(data) {
		return nil, fmt.Errorf("idcard: card data is %d bytes, its block lengths say %d", len(data), off)
	}
	return parts, nil
}

func cloneOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// EncodeBase returns the data field of a 30 01 answer for c; the photo is padded with
// zeros or cut to PhotoSize.
func EncodeBase(c *Card) ([]byte, error) {
	if c == nil {
		return nil, errors.New("idcard: nil card")
	}
	text, err := c.EncodeText()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 4+TextSize+PhotoSize)
	b = binary.BigEndian.AppendUint16(b, TextSize)
	b = binary.BigEndian.AppendUint16(b, PhotoSize)
	b = append(b, text...)
	return appendPhoto(b, c.Photo), nil
}

// EncodeWithFingerprint returns the data field of a 30 10 answer for c. The fingerprint
// must be 0, 512 or 1024 bytes, the sizes real readers send.
func EncodeWithFingerprint(c *Card) ([]byte, error) {
	if c == nil {
		return nil, errors.New("idcard: nil card")
	}
	switch len(c.Fingerprint) {
	case 0, FingerprintSize / 2, FingerprintSize:
	default:
		return nil, fmt.Errorf("idcard: fingerprint is %d bytes, want 0, 512 or 1024", len(c.Fingerprint))
	}
	text, err := c.EncodeText()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 6+TextSize+PhotoSize+len(c.Fingerprint))
	b = binary.BigEndian.AppendUint16(b, TextSize)
	b = binary.BigEndian.AppendUint16(b, PhotoSize)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Fingerprint)))
	b = append(b, text...)
	b = appendPhoto(b, c.Photo)
	return append(b, c.Fingerprint...), nil
}

func appendPhoto(b, photo []byte) []byte {
	n := min(len(photo), PhotoSize)
	b = append(b, photo[:n]...)
	return append(b, make([]byte, PhotoSize-n)...)
}

// AppendedAddressSize is the size of the 30 03 answer's data as the simulator sends it:
// 35 UCS-2 characters, like the address field. [U: not confirmed on a real reader]
const AppendedAddressSize = 70

// DecodeAppendedAddress decodes the data of a 30 03 answer (UCS-2LE, space padded).
func DecodeAppendedAddress(data []byte) (string, error) {
	if len(data)%2 != 0 {
		return "", fmt.Errorf("idcard: appended address is %d bytes, want an even number", len(data))
	}
	s, err := decodeUCS2(data)
	if err != nil {
		return "", fmt.Errorf("idcard: appended address: %w", err)
	}
	return s, nil
}

// EncodeAppendedAddress returns the data of a 30 03 answer holding s.
func EncodeAppendedAddress(s string) ([]byte, error) {
	b, err := encodeField(s, field{name: "appended address", size: AppendedAddressSize})
	if err != nil {
		return nil, fmt.Errorf("idcard: %w", err)
	}
	return b, nil
}

// displayName is the name a person is addressed by: the Chinese one when there is one.
func (c *Card) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.NameEN
}

// Wipe zeroes the photo and fingerprint bytes and clears every field. Strings cannot be
// overwritten in Go; dropping the references lets the collector reclaim them.
func (c *Card) Wipe() {
	if c == nil {
		return
	}
	clear(c.Photo)
	clear(c.Fingerprint)
	*c = Card{}
}

// IDValid reports whether the card's number passes its check: the GB 11643 check
// character for resident cards, residence permits and 18-digit foreign numbers; for the
// 15-character foreign number of 2017 cards, whose check rule is not public, only its
// shape (3 capital letters, 12 digits).
func (c *Card) IDValid() bool {
	if c == nil {
		return false
	}
	if c.Type == CardForeignPermanent && len(c.IDNumber) == 15 {
		s := c.IDNumber
		return strings.Trim(s[:3], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" && allDigits(s[3:])
	}
	return idnum.ValidID(c.IDNumber)
}
