package upstream

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"sync"
)

// A bomb=N body is a gzip stream of N zero bytes assembled from deflate
// blocks computed once: a prefix of 32 KiB of zeros compressed from an
// empty window, then segments of 1 MiB, 64 KiB, 4 KiB and 256 B of zeros
// compressed after a window of zeros, each ended by a sync flush so that it
// is byte-aligned and refers to nothing but zeros within deflate's 32 KiB
// window. Any sequence of segments after the prefix therefore decodes to
// zeros; a final stored block carries the last bytes, and the trailer's
// CRC-32 of N zeros is computed in O(log N).

// bombPrefixLen is the uncompressed length of the bomb prefix, deflate's
// window size.
const bombPrefixLen = 32 << 10

// bombSizes are the uncompressed lengths of the bomb segments, largest
// first; a length under the last one goes into the final stored block.
var bombSizes = [...]int64{1 << 20, 1 << 16, 1 << 12, 1 << 8}

// bombRun is how many copies of the largest segment bombBlocks.run holds.
const bombRun = 64

// gzipHeader is a gzip member header: deflate, no name, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// zeros is a source of zero bytes for stored blocks.
var zeros [bombPrefixLen]byte

type bombBlocks struct {
	prefix []byte
	segs   [len(bombSizes)][]byte
	run    []byte // bombRun copies of segs[0]
}

var getBombBlocks = sync.OnceValue(func() *bombBlocks {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	in := make([]byte, bombSizes[0])
	compress := func(n int64) []byte {
		fw.Write(in[:n])
		fw.Flush()
		b := bytes.Clone(buf.Bytes())
		buf.Reset()
		return b
	}
	bb := &bombBlocks{prefix: compress(bombPrefixLen)}
	for i, n := range bombSizes {
		bb.segs[i] = compress(n)
	}
	bb.run = bytes.Repeat(bb.segs[0], bombRun)
	return bb
})

// bombPlan is the layout of one bomb body.
type bombPlan struct {
	n      int64
	counts [len(bombSizes)]int64
	tail   int64 // zero bytes in the final stored block
	length int64 // bytes on the wire
}

// planBomb lays out a bomb of n zero bytes.
func planBomb(n int64) bombPlan {
	bb := getBombBlocks()
	p := bombPlan{n: n, tail: n}
	p.length = int64(len(gzipHeader)) + 8
	if n >= bombPrefixLen {
		p.length += int64(len(bb.prefix))
		p.tail -= bombPrefixLen
		for i, size := range bombSizes {
			c := p.tail / size
			p.counts[i] = c
			p.tail -= c * size
			p.length += c * int64(len(bb.segs[i]))
		}
	}
	p.length += 5 + p.tail
	return p
}

// writeTo writes the gzip stream.
func (p *bombPlan) writeTo(w io.Writer) error {
	bb := getBombBlocks()
	write := func(b []byte) error {
		_, err := w.Write(b)
		return err
	}
	if err := write(gzipHeader); err != nil {
		return err
	}
	if p.n >= bombPrefixLen {
		if err := write(bb.prefix); err != nil {
			return err
		}
		c := p.counts[0]
		for ; c >= bombRun; c -= bombRun {
			if err := write(bb.run); err != nil {
				return err
			}
		}
		if err := write(bb.run[:c*int64(len(bb.segs[0]))]); err != nil {
			return err
		}
		for i := 1; i < len(bombSizes); i++ {
			for range p.counts[i] {
				if err := write(bb.segs[i]); err != nil {
					return err
				}
			}
		}
	}
	// The final block: stored (BFINAL=1, BTYPE=00, byte-aligned), LEN and
	// its complement, then the bytes.
	t := uint16(p.tail)
	var trailer [8]byte
	stored := []byte{1, byte(t), byte(t >> 8), ^byte(t), ^byte(t >> 8)}
	if err := write(stored); err != nil {
		return err
	}
	if err := write(zeros[:p.tail]); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(trailer[:4], crc32Zeros(p.n))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(p.n))
	return write(trailer[:])
}

// crcPoly is the reflected IEEE CRC-32 polynomial.
const crcPoly = 0xedb88320

// multModP returns a(x) b(x) mod p(x) for the CRC-32 polynomial p, in its
// reflected representation (as zlib's multmodp).
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var prod uint32
	for {
		if a&m != 0 {
			prod ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return prod
}

// x2nTable[k] is x^(2^k) mod p(x).
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = multModP(p, p)
	}
	return t
}()

// x2nModP returns x^(n 2^k) mod p(x) (as zlib's x2nmodp).
func x2nModP(n uint64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for n != 0 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		n >>= 1
		k++
	}
	return p
}

// crc32Zeros returns the IEEE CRC-32 of n zero bytes: feeding a zero byte
// to the register multiplies it by x^8, so n of them multiply the initial
// all-ones register by x^(8n).
func crc32Zeros(n int64) uint32 {
	return ^multModP(x2nModP(uint64(n), 3), 0xffffffff)
}
