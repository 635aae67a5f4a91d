// Prints, one per line, "<case name> <hex>": the bytes Go's encoding/gob
// writes for one Encode of raftexample's kv struct on a fresh encoder (what
// raftexample's Propose puts in each entry), and the bytes Go's
// encoding/json writes for a map[string]string (its snapshot data). Run by
// tests/kv/gob_capture.ts; its output is kept in apps/kv/testdata/.
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

type kv struct {
	Key string
	Val string
}

func gobHex(k, v string) string {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(kv{k, v}); err != nil {
		panic(err)
	}
	return hex.EncodeToString(buf.Bytes())
}

func main() {
	cases := []struct{ name, k, v string }{
		{"empty-both", "", ""},
		{"empty-val", "/a", ""},
		{"empty-key", "", "x"},
		{"short", "/my-key", "hello"},
		{"len1", "/k", "a"},
		{"len127", "/k", strings.Repeat("b", 127)},
		{"len128", "/k", strings.Repeat("c", 128)},
		{"len300", strings.Repeat("k", 300), strings.Repeat("d", 300)},
		{"len70000", "/k", strings.Repeat("e", 70000)},
		{"non-ascii", "/ключ", "héllo wörld ✓ 😀"},
	}
	for _, c := range cases {
		fmt.Printf("gob %s %s\n", c.name, gobHex(c.k, c.v))
	}
	maps := []struct {
		name string
		m    map[string]string
	}{
		{"json-empty", map[string]string{}},
		{"json-sorted", map[string]string{"/b": "2", "/a": "1", "/é": "3", "/Z": "4", "/a/b": "5"}},
		{"json-escapes", map[string]string{"/e": "<&>\"\\\n\r\t\b\f\x01\x1f\x7f \u2028\u2029 é😀"}},
	}
	for _, c := range maps {
		b, err := json.Marshal(c.m)
		if err != nil {
			panic(err)
		}
		fmt.Printf("json %s %s\n", c.name, hex.EncodeToString(b))
	}
}
