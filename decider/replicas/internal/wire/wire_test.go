package wire

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTimeRoundTrip(t *testing.T) {
	for _, at := range []time.Time{
		time.Unix(0, 0),
		time.Date(2026, 3, 2, 7, 15, 30, 123456789, time.UTC),
		time.Date(2026, 3, 2, 7, 15, 30, 999999999, time.FixedZone("x", 3600)),
		time.Unix(MaxUnix, 999999999),
	} {
		w := NewWriter(nil)
		w.Time(at, "t")
		b, err := w.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(b)
		got := r.Time("t")
		if err := r.Done(); err != nil || !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("%s: got %s, %v", at, got, err)
		}
	}
}

func TestWriterRefuses(t *testing.T) {
	for name, write := range map[string]func(w *Writer){
		"before 1970":    func(w *Writer) { w.Time(time.Unix(-1, 0), "guard since") },
		"after 9999":     func(w *Writer) { w.Time(time.Unix(MaxUnix+1, 0), "guard since") },
		"negative count": func(w *Writer) { w.Int32(-2, "guard since") },
	} {
		w := NewWriter(nil)
		write(w)
		w.Int32(3, "later") // the first error is kept
		if _, err := w.Bytes(); err == nil || !strings.Contains(err.Error(), "guard since") {
			t.Errorf("%s: got %v, want an error naming the field", name, err)
		}
	}
}

func TestReaderRefuses(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		read func(r *Reader)
		want string
		cut  bool // a truncation (errors.Is ErrTruncated)
	}{
		{"empty", nil, func(r *Reader) { r.Byte("flags") }, "truncated reading flags", true},
		{"cut varint", []byte{0x80, 0x80}, func(r *Reader) { r.Varint("count") }, "truncated reading count", true},
		{"varint over 64 bits", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, func(r *Reader) { r.Uvarint("count") }, "count: varint overflows", false},
		{"count past the bytes", []byte{100, 1, 2}, func(r *Reader) { r.Len(3, "events") }, "events 100: only 2 bytes left", true},
		{"int32 out of range", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, func(r *Reader) { r.Int32("replicas") }, "replicas 4294967295", false},
		{"time before 1970", []byte{1, 0}, func(r *Reader) { r.Time("since") }, "since: Unix second -1", false},
		{"nanoseconds of a second", []byte{2, 0x80, 0x94, 0xeb, 0xdc, 0x03}, func(r *Reader) { r.Time("since") }, "since: nanoseconds 1000000000", false},
		{"cut time", []byte{2}, func(r *Reader) { r.Time("since") }, "truncated reading since (nanoseconds)", true},
		{"floats", []byte{1, 2, 3}, func(r *Reader) { r.Float32s(make([]float32, 2), "profile") }, "profile: 8 bytes needed, 3 left", true},
		{"trailing", []byte{1, 2, 3}, func(r *Reader) { r.Byte("flags") }, "1 unexpected trailing bytes", false},
	}
	for _, tc := range cases {
		r := NewReader(tc.in)
		tc.read(r)
		r.Byte("after") // reads after an error return zero and keep it
		if err := r.Done(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		} else if errors.Is(err, ErrTruncated) != tc.cut {
			t.Errorf("%s: %v: errors.Is(ErrTruncated) = %v", tc.name, err, errors.Is(err, ErrTruncated))
		}
	}
}
