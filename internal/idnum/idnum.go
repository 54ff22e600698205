package idnum

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of CheckID, CheckID15 and CheckDigit. They never include the number itself, so
// they are safe to log.
var (
	ErrLength     = errors.New("idnum: wrong length")
	ErrFormat     = errors.New("idnum: not a digit where one is required")
	ErrDate       = errors.New("idnum: birth date is not a real date")
	ErrCheckDigit = errors.New("idnum: check character does not match")
)

// weights are 2^(17-i) mod 11 for i = 0..16 (GB 11643, ISO 7064 MOD 11-2).
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps S mod 11 to the check character.
const checkChars = "10X98765432"

// Normalize trims surrounding white space and upper-cases a trailing check 'x', the two
// differences between a typed or scanned number and its canonical form.
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	if n := len(s); n > 0 && s[n-1] == 'x' {
		s = s[:n-1] + "X"
	}
	return s
}

// CheckDigit returns the GB 11643 check character ('0'..'9' or 'X') for the first 17
// characters of an ID number.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: %d characters, want 17", ErrLength, len(first17))
	}
	s := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w (position %d)", ErrFormat, i+1)
		}
		s += int(c-'0') * weights[i]
	}
	return checkChars[s%11], nil
}

// CheckID reports why s is not a valid 18-character GB 11643 ID number, or nil. The
// input is normalised first (see Normalize).
func CheckID(s string) error {
	s = Normalize(s)
	if len(s) != 18 {
		return fmt.Errorf("%w: %d characters, want 18", ErrLength, len(s))
	}
	want, err := CheckDigit(s[:17])
	if err != nil {
		return err
	}
	if c := s[17]; c != 'X' && (c < '0' || c > '9') {
		return fmt.Errorf("%w (position 18)", ErrFormat)
	}
	if !realDate(s[6:14]) {
		return ErrDate
	}
	if s[17] != want {
		return ErrCheckDigit
	}
	return nil
}

// ValidID reports whether s is a valid 18-character ID number.
func ValidID(s string) bool { return CheckID(s) == nil }

// CheckID15 reports why s is not a valid legacy 15-digit ID number (6 address digits,
// YYMMDD of a 19xx birth date, 3 sequence digits; no check character), or nil.
func CheckID15(s string) error {
	s = strings.TrimSpace(s)
	if len(s) != 15 {
		return fmt.Errorf("%w: %d characters, want 15", ErrLength, len(s))
	}
	for i := 0; i < 15; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("%w (position %d)", ErrFormat, i+1)
		}
	}
	if !realDate("19" + s[6:12]) {
		return ErrDate
	}
	return nil
}

// Upgrade15 turns a legacy 15-digit number into its 18-character form: "19" goes in
// front of the 2-digit year and the check character is appended.
func Upgrade15(s string) (string, error) {
	if err := CheckID15(s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	first17 := s[:6] + "19" + s[6:]
	c, err := CheckDigit(first17)
	if err != nil {
		return "", err
	}
	return first17 + string(c), nil
}

// realDate reports whether d (8 ASCII digits, YYYYMMDD) names a day of the calendar.
func realDate(d string) bool {
	if len(d) != 8 {
		return false
	}
	for i := 0; i < 8; i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	y := atoi(d[0:4])
	m := atoi(d[4:6])
	day := atoi(d[6:8])
	if y == 0 || m < 1 || m > 12 || day < 1 {
		return false
	}
	// time.Date normalises 31 February into March, so a round trip tells real dates apart.
	t := time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && t.Month() == time.Month(m) && t.Day() == day
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// Hash returns the hex HMAC-SHA256 of the normalised ID number under the deployment key:
// the form stored for matching a citizen across sessions without keeping the number.
func Hash(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(Normalize(id)))
	return hex.EncodeToString(m.Sum(nil))
}
