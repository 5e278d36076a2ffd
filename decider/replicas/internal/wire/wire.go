package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrTruncated is wrapped by every error about input that ends too early.
var ErrTruncated = errors.New("truncated")

// MaxUnix is the last Unix second a checkpointed time may hold
// (9999-12-31T23:59:59Z), like the requests model's MaxSampleTime: a
// decoded time is checked against [0, MaxUnix], so a corrupted one cannot
// put a recommendation into every future stabilization window.
const MaxUnix = 253402300799

// Writer appends fields to a byte slice. A value it cannot encode so that
// Reader accepts it again (a time outside 1970..9999, a negative count)
// makes Bytes fail instead of writing a checkpoint that would not restore.
type Writer struct {
	b   []byte
	err error
}

// NewWriter returns a writer appending to dst.
func NewWriter(dst []byte) *Writer { return &Writer{b: dst} }

// Bytes returns the encoding, or the first error met while writing.
func (w *Writer) Bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

// Failf records an error (a value Reader would refuse) unless one was
// already met.
func (w *Writer) Failf(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

// Byte appends one byte.
func (w *Writer) Byte(v byte) { w.b = append(w.b, v) }

// Uvarint appends v as an unsigned varint.
func (w *Writer) Uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

// Varint appends v as a signed (zig-zag) varint.
func (w *Writer) Varint(v int64) { w.b = binary.AppendVarint(w.b, v) }

// Int32 appends a count that must be ≥ 0 (replicas, a scale change) as an
// unsigned varint.
func (w *Writer) Int32(v int32, field string) {
	if v < 0 {
		w.Failf("%s %d: want ≥ 0", field, v)
	}
	w.Uvarint(uint64(max(v, 0)))
}

// Float64 appends the IEEE 754 bits of v (8 bytes).
func (w *Writer) Float64(v float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v)) }

// Float32s appends the IEEE 754 bits of each value (4 bytes each), NaN
// payloads included.
func (w *Writer) Float32s(vs []float32) {
	for _, v := range vs {
		w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(v))
	}
}

// Raw appends bytes as they are.
func (w *Writer) Raw(p []byte) { w.b = append(w.b, p...) }

// Time appends t as Unix seconds (varint) and nanoseconds (uvarint), so a
// controller's sub-second times come back exactly; its location and
// monotonic reading are not kept (times come back in UTC, and every use
// compares them).
func (w *Writer) Time(t time.Time, field string) {
	if s := t.Unix(); s < 0 || s > MaxUnix {
		w.Failf("%s %s: outside 1970..9999, cannot be checkpointed", field, t.UTC().Format(time.RFC3339Nano))
	}
	w.Varint(t.Unix())
	w.Uvarint(uint64(t.Nanosecond()))
}

// Reader decodes fields from a byte slice. After the first error every
// read returns a zero value and Err reports that error.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error met, if any.
func (r *Reader) Err() error { return r.err }

// Failf records an error (a value out of range) unless one was already met.
func (r *Reader) Failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// Rest returns the bytes not read yet.
func (r *Reader) Rest() []byte { return r.b }

// Done returns the first error, or an error if bytes are left over.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d unexpected trailing bytes", len(r.b))
	}
	return r.err
}

func (r *Reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = fmt.Errorf("%w reading %s: %d bytes needed, %d left", ErrTruncated, field, n, len(r.b))
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

// Byte reads one byte.
func (r *Reader) Byte(field string) byte {
	p := r.take(1, field)
	if p == nil {
		return 0
	}
	return p[0]
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint(field string) uint64 { return r.uvarint(field, "") }

// Varint reads a signed varint.
func (r *Reader) Varint(field string) int64 { return r.varint(field, "") }

// uvarint and varint name the field as field+part only on error, so a
// decoder's loops build no strings.
func (r *Reader) uvarint(field, part string) uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.varintErr(k, field+part)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *Reader) varint(field, part string) int64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.varintErr(k, field+part)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *Reader) varintErr(k int, field string) {
	if k == 0 {
		r.err = fmt.Errorf("%w reading %s", ErrTruncated, field)
	} else {
		r.err = fmt.Errorf("%s: varint overflows 64 bits", field)
	}
}

// Int32 reads a count written by Writer.Int32 and checks it is in 0..MaxInt32.
func (r *Reader) Int32(field string) int32 {
	v := r.Uvarint(field)
	if v > math.MaxInt32 {
		r.Failf("%s %d: want 0..%d", field, v, math.MaxInt32)
		return 0
	}
	return int32(v)
}

// Len reads the length of a list whose entries take at least minBytes
// each, and checks it against the bytes left, so a corrupted length fails
// here instead of allocating.
func (r *Reader) Len(minBytes int, field string) int {
	n := r.Uvarint(field)
	if r.err == nil && n > uint64(len(r.b)/minBytes) {
		r.err = fmt.Errorf("%w: %s %d: only %d bytes left", ErrTruncated, field, n, len(r.b))
		return 0
	}
	return int(n)
}

// Float64 reads 8 bytes of IEEE 754 bits; the caller checks the value.
func (r *Reader) Float64(field string) float64 {
	p := r.take(8, field)
	if p == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

// Float32s fills dst with 4-byte IEEE 754 values; the caller checks them.
func (r *Reader) Float32s(dst []float32, field string) {
	p := r.take(4*len(dst), field)
	if p == nil {
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
}

// Raw fills dst with the next len(dst) bytes.
func (r *Reader) Raw(dst []byte, field string) {
	if p := r.take(len(dst), field); p != nil {
		copy(dst, p)
	}
}

// Time reads a time written by Writer.Time and checks it lies in
// 1970..9999 with a nanosecond part under a second. It comes back in UTC.
func (r *Reader) Time(field string) time.Time {
	s := r.varint(field, " (seconds)")
	ns := r.uvarint(field, " (nanoseconds)")
	if r.err != nil {
		return time.Time{}
	}
	if s < 0 || s > MaxUnix {
		r.Failf("%s: Unix second %d: want 0..%d (1970 to 9999)", field, s, int64(MaxUnix))
		return time.Time{}
	}
	if ns >= 1e9 {
		r.Failf("%s: nanoseconds %d: want < 1e9", field, ns)
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}
