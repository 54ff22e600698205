package idnum

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of CheckUSCC. A code that fails only ErrUSCCCheck may still be real (early pilot
// codes fail it), so callers warn on it; ErrUSCCFormat means the input is not a code.
var (
	ErrUSCCFormat = errors.New("idnum: not a unified social credit code")
	ErrUSCCCheck  = errors.New("idnum: unified social credit code check character does not match")
)

// usccAlphabet is GB 32100's 31 characters; a character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^i mod 31 for i = 0..16.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckUSCC reports why s is not a valid GB 32100 unified social credit code, or nil.
// Surrounding white space and lower case are accepted. The error wraps ErrUSCCCheck when
// only the check character is wrong and ErrUSCCFormat otherwise.
func CheckUSCC(s string) error {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return fmt.Errorf("%w: %d characters, want 18", ErrUSCCFormat, len(s))
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(usccAlphabet, s[i])
		if v < 0 {
			return fmt.Errorf("%w: character %d is not in the GB 32100 alphabet", ErrUSCCFormat, i+1)
		}
		if i < 17 {
			sum += v * usccWeights[i]
		}
	}
	want := usccAlphabet[(31-sum%31)%31]
	if s[17] != want {
		return fmt.Errorf("%w: got %c, want %c", ErrUSCCCheck, s[17], want)
	}
	return nil
}
