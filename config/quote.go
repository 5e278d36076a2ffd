package config

import (
	"fmt"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxQuotedValue is the most of a bad value an error quotes, in bytes. An
// annotation value can be up to 256 KiB; quoted whole it would be echoed in
// the denial (twice: the message and its cause), in every log line about the
// workload and in its Decision. The first bytes are enough to find it.
const MaxQuotedValue = 64

// ShortValue returns v when it is at most MaxQuotedValue bytes, and otherwise
// its first MaxQuotedValue bytes (cut at a character boundary) followed by
// "…". ok is false when v was cut.
func ShortValue(v string) (short string, ok bool) {
	if len(v) <= MaxQuotedValue {
		return v, true
	}
	cut := MaxQuotedValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…", false
}

// Invalid is field.Invalid quoting at most a short prefix of value; the
// detail then says how long the value is.
func Invalid(path *field.Path, value, detail string) *field.Error {
	short, whole := ShortValue(value)
	return field.Invalid(path, short, detail+lengthNote(value, whole))
}

// NotSupported is field.NotSupported quoting at most a short prefix of value.
func NotSupported[T ~string](path *field.Path, value string, valid []T) *field.Error {
	short, whole := ShortValue(value)
	e := field.NotSupported(path, short, valid)
	e.Detail += lengthNote(value, whole)
	return e
}

// lengthNote tells a reader of a cut value what they are not seeing.
func lengthNote(value string, whole bool) string {
	if whole {
		return ""
	}
	return fmt.Sprintf(" (the value is %d bytes; only its first %d are quoted)", len(value), MaxQuotedValue)
}
