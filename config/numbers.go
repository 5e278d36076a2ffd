package config

import "errors"

// Numbers in annotations have one written form each, so that what a user
// reads in YAML is what trimtab uses: strconv alone would also take "+3",
// "0x1p-2", "Inf" or "1_000" (Go literal syntax), none of which a reader
// of a manifest expects to be a replica count or a target.

// errNotDigits marks a whole number written with anything but digits.
var errNotDigits = errors.New("not a plain whole number")

// isDigits reports whether s is one or more ASCII digits: a whole number ≥ 0
// with no sign, space or base prefix.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimal reports whether s is a plain decimal number with no sign:
// digits with an optional fraction ("50", "2.5", ".5", "5.") and an optional
// exponent ("1e3", "2.5E-2", "1e+21", the form formatFloat writes). It
// refuses signs, hexadecimal, underscores, "Inf" and "NaN".
func isDecimal(s string) bool {
	i, digits := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !isDigits(s[i:]) {
			return false
		}
		i = len(s)
	}
	return i == len(s)
}
