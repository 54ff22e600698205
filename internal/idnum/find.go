package idnum

// FindIDs returns every full identity number in text, in order of appearance, so that a
// log scan catches each kind a GA 467 reader reads (DEVICES.md 1.6 and 2.1):
//
//   - 18 characters that pass CheckID: citizen ID numbers, Hong Kong/Macau/Taiwan
//     residence permits and the 2023 foreign permanent resident numbers (which start
//     with 9). They are found inside longer runs of digits too, because a leaked number
//     with a digit glued to it is still a leak; the check character keeps false matches
//     to about 1 in 11 of the real dates.
//   - A run of exactly 15 digits that passes CheckID15 and starts with a province code
//     (11-15, 21-23, 31-37, 41-46, 50-54, 61-65): legacy citizen numbers. They have no
//     check character, so only a standalone run counts, never 15 digits inside a longer
//     run or after a decimal point (a fraction such as 0.123456789012345).
//   - 3 capital letters and 12 digits with no ASCII letter or digit on either side: the
//     2017 foreign permanent resident number (^[A-Z]{3}\d{12}$). Its check rule is not
//     public, so its shape is all that is matched; any other token of that exact shape
//     in a log is reported too, and should not be logged either.
//
// Masked forms never match: their stars are neither digits nor letters.
func FindIDs(text string) []string {
	var found []string
	digits := 0 // length of the run of ASCII digits ending just before i
	for i := 0; i <= len(text); i++ {
		var c byte
		if i < len(text) {
			c = text[i]
		}
		// A run of digits ends at i: it may be a legacy number or the tail of a
		// foreign one.
		if !isDigit(c) && digits > 0 {
			start := i - digits
			switch {
			case digits == 15 && legacyAt(text, start):
				found = append(found, text[start:i])
			case digits == 12 && foreignAt(text, start, i):
				found = append(found, text[start-3:i])
			}
		}
		if i == len(text) {
			break
		}
		if digits >= 17 && (isDigit(c) || c == 'X' || c == 'x') {
			if cand := text[i-17 : i+1]; CheckID(cand) == nil {
				found = append(found, cand)
			}
		}
		if isDigit(c) {
			digits++
		} else {
			digits = 0
		}
	}
	return found
}

// legacyAt reports whether the 15 digits at text[start:] (a whole run) are a legacy
// number rather than the fraction of a decimal.
func legacyAt(text string, start int) bool {
	if start >= 2 && text[start-1] == '.' && isDigit(text[start-2]) {
		return false
	}
	s := text[start : start+15]
	return provinces[s[:2]] && CheckID15(s) == nil
}

// foreignAt reports whether the 12 digits at text[start:end] follow exactly three
// capital letters and the whole stands alone.
func foreignAt(text string, start, end int) bool {
	if start < 3 {
		return false
	}
	for _, c := range []byte(text[start-3 : start]) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	if start > 3 && isAlnum(text[start-4]) {
		return false
	}
	return end == len(text) || !isAlnum(text[end])
}

// isFullID reports whether s, as a whole, is one of the numbers FindIDs finds.
func isFullID(s string) bool {
	switch len(s) {
	case 18:
		return ValidID(s)
	case 15:
		return len(FindIDs(s)) == 1
	}
	return false
}

// provinces are the province-level codes of GB/T 2260 that legacy numbers begin with.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
