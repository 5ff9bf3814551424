package models

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func FuzzExtract(f *testing.F) {
	f.Add(tarBytes(f, entry{name: "pkg/model.onnx", body: "weights"}, entry{name: "pkg/tokens.txt", body: "a 1"}))
	f.Add(tarBytes(f, entry{name: "pkg/", kind: '5'}, entry{name: "pkg/../../x", body: "evil"}))
	f.Add(tarBytes(f, entry{name: "/abs", body: "x"}, entry{name: `a\b`, body: "x"}))
	f.Add(tarBytes(f, entry{name: "l", kind: '2', link: "/"}, entry{name: "l/x", body: "x"}))
	f.Add(tarBytes(f, entry{name: "a", body: "1"}, entry{name: "a/b", body: "2"}, entry{name: "a", kind: '5'}))
	f.Add(gzipBytes(f, tarBytes(f, entry{name: "pkg/model.onnx", body: strings.Repeat("w", 5000)})))
	f.Add([]byte("BZh91AY&SY"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		top := t.TempDir()
		lim := limits{unpacked: 64 << 10, entries: 64}
		specs := []extractSpec{
			{lim: lim},
			{root: "pkg", only: map[string]bool{"model.onnx": true}, lim: lim},
		}
		for i, spec := range specs {
			dest := filepath.Join(top, strconv.Itoa(i))
			if err := os.Mkdir(dest, 0o755); err != nil {
				t.Fatal(err)
			}
			written, err := extract(bytes.NewReader(data), dest, spec)
			var total int64
			for _, rel := range written {
				if checkRelPath(rel) != nil {
					t.Fatalf("wrote %q", rel)
				}
			}
			filepath.Walk(dest, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					total += fi.Size()
				}
				if err == nil && fi.Mode()&os.ModeSymlink != 0 {
					t.Fatalf("created a link %s", p)
				}
				return nil
			})
			if total > lim.unpacked {
				t.Fatalf("wrote %d bytes, limit %d (err %v)", total, lim.unpacked, err)
			}
			if spec.only != nil {
				for _, rel := range written {
					if rel != "model.onnx" {
						t.Fatalf("kept %q, not asked for", rel)
					}
				}
			}
		}
		entries, err := os.ReadDir(top)
		if err != nil || len(entries) != len(specs) {
			t.Fatalf("something was written next to the destination: %v", entries)
		}
	})
}

func TestSniffTellsArchivesFromModelFiles(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("x"))
	zw.Close()
	onnx := []byte("\x08\x07\x12\x07pytorch") // how ONNX protobufs start
	cases := []struct {
		data []byte
		want format
	}{
		{gz.Bytes(), gzipTar},
		{[]byte("BZh91AY&SY"), bzip2Tar},
		{tarBytes(t, entry{name: "a", body: "b"}), plainTar},
		{onnx, single},
		{nil, single},
	}
	for i, c := range cases {
		if got := sniff(c.data); got != c.want {
			t.Errorf("case %d: sniff = %v, want %v", i, got, c.want)
		}
	}
}
