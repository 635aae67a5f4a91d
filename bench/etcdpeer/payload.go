package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// payloadSeed is the xorshift32 state the payload stream starts from.
const payloadSeed uint32 = 0x92D68CA2

// payloadStream is the protocol's payload byte stream, an endless
// io.Reader: xorshift32 (shifts 13, 17, 5), each new state written as 4
// bytes little-endian. A payload of SIZE bytes is its first SIZE bytes; it
// begins 63 4d 1f 2b 7a cb da 94. Reads of any length continue the stream
// (a word cut at the end of one read goes on in the next).
type payloadStream struct {
	x    uint32
	cut  [4]byte
	left int // bytes of cut not yet read (its last left bytes)
}

func newPayloadStream() *payloadStream { return &payloadStream{x: payloadSeed} }

func (p *payloadStream) word() uint32 {
	x := p.x
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	p.x = x
	return x
}

func (p *payloadStream) Read(b []byte) (int, error) {
	i := 0
	for ; p.left > 0 && i < len(b); i++ {
		b[i] = p.cut[4-p.left]
		p.left--
	}
	for ; i+4 <= len(b); i += 4 {
		binary.LittleEndian.PutUint32(b[i:], p.word())
	}
	if i < len(b) {
		binary.LittleEndian.PutUint32(p.cut[:], p.word())
		p.left = 4 - copy(b[i:], p.cut[:])
	}
	return len(b), nil
}

// payload is the first size bytes of the payload stream.
func payload(size int64) []byte {
	b := make([]byte, size)
	newPayloadStream().Read(b)
	return b
}

// comparePayload reads a file to its end and compares it with the payload
// stream: it returns the offset of the first differing byte, or -1.
func comparePayload(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	want := newPayloadStream()
	got, exp := make([]byte, 1<<20), make([]byte, 1<<20)
	var off int64
	for {
		n, err := io.ReadFull(f, got)
		want.Read(exp[:n])
		if !bytes.Equal(got[:n], exp[:n]) {
			i := 0
			for got[i] == exp[i] {
				i++
			}
			return off + int64(i), nil
		}
		off += int64(n)
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return -1, nil
		default:
			return 0, fmt.Errorf("read %s at %d: %v", path, off, err)
		}
	}
}
