package histogram

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// checkpointVersion is bumped whenever the encoding or the bucket layout it
// assumes changes; old checkpoints are then rejected, not misread.
const checkpointVersion = 1

// AppendCheckpoint appends a compact encoding of h to dst: version, bucket
// count, decay reference (Unix seconds), the non-empty bucket span and each
// bucket's weight quantised to 16 bits relative to the heaviest bucket. Like
// VPA's checkpoint (which scales weights to at most 10000) it keeps shape,
// not exact weights: buckets lighter than 1/65535 of the heaviest are lost.
func (h *Decaying) AppendCheckpoint(dst []byte) []byte {
	dst = append(dst, checkpointVersion)
	dst = binary.AppendUvarint(dst, uint64(h.opts.n))
	var refSec int64
	if !h.ref.IsZero() {
		refSec = h.ref.Unix()
	}
	dst = binary.AppendVarint(dst, refSec)
	if h.hi < 0 {
		return binary.AppendUvarint(dst, 0)
	}
	span := h.hi - h.lo + 1
	dst = binary.AppendUvarint(dst, uint64(span))
	dst = binary.AppendUvarint(dst, uint64(h.lo))
	maxW := 0.0
	for _, w := range h.weights[h.lo : h.hi+1] {
		maxW = math.Max(maxW, w)
	}
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(maxW))
	for _, w := range h.weights[h.lo : h.hi+1] {
		q := uint16(math.Round(w / maxW * math.MaxUint16))
		dst = binary.LittleEndian.AppendUint16(dst, q)
	}
	return dst
}

// errShort reports a truncated checkpoint.
var errShort = errors.New("checkpoint truncated")

// RestoreDecaying decodes a checkpoint written by AppendCheckpoint for a
// histogram with the given options and half-life, and returns the histogram
// and the bytes after it.
func RestoreDecaying(opts Options, halfLife time.Duration, src []byte) (*Decaying, []byte, error) {
	h := NewDecaying(opts, halfLife)
	if len(src) < 1 {
		return nil, nil, fmt.Errorf("reading histogram checkpoint version: %w", errShort)
	}
	if src[0] != checkpointVersion {
		return nil, nil, fmt.Errorf("histogram checkpoint version %d: only version %d is supported", src[0], checkpointVersion)
	}
	src = src[1:]
	n, src, err := uvarint(src, "bucket count")
	if err != nil {
		return nil, nil, err
	}
	if n != uint64(opts.n) {
		return nil, nil, fmt.Errorf("histogram checkpoint has %d buckets, these options have %d", n, opts.n)
	}
	refSec, k := binary.Varint(src)
	if k <= 0 {
		return nil, nil, fmt.Errorf("reading histogram reference time: %w", errShort)
	}
	src = src[k:]
	if refSec != 0 {
		h.ref = time.Unix(refSec, 0).UTC()
	}
	span, src, err := uvarint(src, "bucket span")
	if err != nil {
		return nil, nil, err
	}
	if span == 0 {
		return h, src, nil
	}
	lo, src, err := uvarint(src, "first bucket")
	if err != nil {
		return nil, nil, err
	}
	if span > n || lo > n-span { // not lo+span > n, which can wrap around
		return nil, nil, fmt.Errorf("histogram checkpoint buckets %d..%d: outside 0..%d", lo, lo+span-1, n-1)
	}
	if uint64(len(src)) < 8+2*span {
		return nil, nil, fmt.Errorf("reading %d histogram buckets: %w", span, errShort)
	}
	maxW := math.Float64frombits(binary.LittleEndian.Uint64(src))
	if !(maxW > 0) || math.IsInf(maxW, 0) {
		return nil, nil, fmt.Errorf("histogram checkpoint max weight %v: must be positive and finite", maxW)
	}
	src = src[8:]
	for i := 0; i < int(span); i++ {
		q := binary.LittleEndian.Uint16(src[2*i:])
		if q == 0 {
			continue
		}
		b := int(lo) + i
		h.weights[b] = float64(q) / math.MaxUint16 * maxW
		h.total += h.weights[b]
		h.lo = min(h.lo, b)
		h.hi = max(h.hi, b)
	}
	return h, src[2*span:], nil
}

func uvarint(src []byte, what string) (uint64, []byte, error) {
	v, k := binary.Uvarint(src)
	if k <= 0 {
		return 0, nil, fmt.Errorf("reading histogram %s: %w", what, errShort)
	}
	return v, src[k:], nil
}
