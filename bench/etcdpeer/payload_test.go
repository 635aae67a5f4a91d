package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func TestPayloadStream(t *testing.T) {
	if got := hex.EncodeToString(payload(16)); got != "634d1f2b7acbda94a059087b7e56b077" {
		t.Fatalf("payload(16) = %s", got)
	}
	// read piecewise, across cut words, it is the same stream
	whole := payload(1001)
	s := newPayloadStream()
	var parts []byte
	for _, n := range []int{3, 1, 5, 0, 64, 2, 926} {
		b := make([]byte, n)
		s.Read(b)
		parts = append(parts, b...)
	}
	if !bytes.Equal(parts, whole) {
		t.Fatal("piecewise reads differ from one read")
	}
}

func TestComparePayload(t *testing.T) {
	dir := t.TempDir()
	size := int64(1<<20 + 7)
	good := filepath.Join(dir, "good")
	os.WriteFile(good, payload(size), 0o600)
	if at, err := comparePayload(good); err != nil || at != -1 {
		t.Fatalf("good file: %d, %v", at, err)
	}
	b := payload(size)
	b[1<<20+5] ^= 1
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, b, 0o600)
	if at, err := comparePayload(bad); err != nil || at != 1<<20+5 {
		t.Fatalf("bad file: %d, %v", at, err)
	}
}
