package models

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPullSingleFile(t *testing.T) {
	srv := newServer(t)
	body := []byte("pretend this is an onnx model")
	m := Model{Name: "tiny-vad", Kind: VAD, Source: srv.put("/files/vad.onnx", body), SHA256: sum(body), Size: int64(len(body))}
	dir := t.TempDir()
	if err := Pull(context.Background(), m, dir, nil); err != nil {
		t.Fatal(err)
	}
	got := tree(t, filepath.Join(dir, "tiny-vad"))
	if got["vad.onnx"] != string(body) {
		t.Fatalf("installed files = %v, want vad.onnx with the download", names(got))
	}
	man, err := Verify(filepath.Join(dir, "tiny-vad"))
	if err != nil {
		t.Fatal(err)
	}
	want := []FileHash{{Path: "vad.onnx", Size: int64(len(body)), SHA256: sum(body)}}
	if man.Name != "tiny-vad" || man.Kind != VAD || man.SHA256 != m.SHA256 || !reflect.DeepEqual(man.Files, want) {
		t.Fatalf("manifest = %+v", man)
	}
	if leftovers := hidden(t, dir); len(leftovers) != 0 {
		t.Fatalf("temporary files left in the model directory: %v", leftovers)
	}
}

// hidden lists the dot entries of dir: downloads and installs in progress.
func hidden(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

func testArchive(t *testing.T) []byte {
	return gzipBytes(t, tarBytes(t,
		entry{name: "pkg/", kind: '5'},
		entry{name: "pkg/model.onnx", body: "weights"},
		entry{name: "pkg/tokens.txt", body: "a 1\nb 2\n"},
		entry{name: "pkg/test_wavs/0.wav", body: "RIFF...."},
		entry{name: "README", body: "outside the root"},
	))
}

func TestPullArchiveKeepsOnlyTheModelFiles(t *testing.T) {
	srv := newServer(t)
	data := testArchive(t)
	m := Model{Name: "asr", Kind: Offline, Language: "fr", Source: srv.put("/asr.tar.gz", data), SHA256: sum(data),
		Root: "pkg", Files: []string{"model.onnx", "tokens.txt"},
		FileSHA256: map[string]string{"model.onnx": sum([]byte("weights"))}}
	dir := t.TempDir()
	if err := Pull(context.Background(), m, dir, nil); err != nil {
		t.Fatal(err)
	}
	got := tree(t, filepath.Join(dir, "asr"))
	delete(got, ManifestName)
	want := map[string]string{"model.onnx": "weights", "tokens.txt": "a 1\nb 2\n"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("installed %v, want %v", got, want)
	}
	man, err := Verify(filepath.Join(dir, "asr"))
	if err != nil {
		t.Fatal(err)
	}
	if man.Language != "fr" || len(man.Files) != 2 {
		t.Fatalf("manifest = %+v", man)
	}
}

func TestPullArchiveWithoutRootKeepsEverythingUnderItsTopDirectory(t *testing.T) {
	srv := newServer(t)
	data := gzipBytes(t, tarBytes(t,
		entry{name: "sherpa-model/encoder.onnx", body: "e"},
		entry{name: "sherpa-model/sub/tokens.txt", body: "t"},
	))
	m := Model{Name: "custom", Kind: Streaming, Source: srv.put("/c.tgz", data), SHA256: sum(data)}
	dir := t.TempDir()
	if err := Pull(context.Background(), m, dir, nil); err != nil {
		t.Fatal(err)
	}
	got := tree(t, filepath.Join(dir, "custom"))
	delete(got, ManifestName)
	if want := map[string]string{"encoder.onnx": "e", "sub/tokens.txt": "t"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("installed %v, want %v", got, want)
	}
}

func TestPullRefusesABadDownload(t *testing.T) {
	srv := newServer(t)
	good := testArchive(t)
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0xff
	traversal := gzipBytes(t, tarBytes(t,
		entry{name: "pkg/model.onnx", body: "weights"},
		entry{name: "pkg/../../evil.sh", body: "rm -rf"},
	))
	absolute := tarBytes(t, entry{name: "/tmp/visio-evil", body: "x"})
	cases := []struct {
		name   string
		path   string
		body   []byte
		sha    string
		size   int64
		errHas []string
	}{
		{"hash mismatch", "/corrupt.tgz", corrupt, sum(good), 0, []string{"SHA-256", sum(corrupt), "deleted", "run the pull again"}},
		{"truncated", "/truncated", good, sum(good), 0, []string{"interrupted", "run the pull again"}},
		{"shorter than the catalog says", "/short.tgz", good, sum(good), int64(len(good)) + 10, []string{"expected", "changed upstream"}},
		{"path traversal", "/traversal.tgz", traversal, sum(traversal), 0, []string{"pkg/../../evil.sh", "leaves its directory"}},
		{"absolute path", "/absolute.tar", absolute, sum(absolute), 0, []string{"/tmp/visio-evil", "absolute"}},
		{"not found", "/missing.tgz", nil, sum(good), 0, []string{"404", "check the address"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := srv.URL + c.path
			if c.body != nil {
				url = srv.put(c.path, c.body)
			}
			m := Model{Name: "bad", Kind: Offline, Source: url, SHA256: c.sha, Size: c.size, Root: "pkg", Files: []string{"model.onnx"}}
			top := t.TempDir()
			dir := filepath.Join(top, "models")
			err := Pull(context.Background(), m, dir, nil)
			if err == nil {
				t.Fatal("Pull accepted a bad download")
			}
			t.Logf("error: %v", err)
			for _, s := range c.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "bad")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a model directory was installed: %v", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left behind in the model directory: %v", entries)
			}
			if _, err := os.Stat(filepath.Join(top, "evil.sh")); err == nil {
				t.Error("an archive entry was written outside the model directory")
			}
		})
	}
}

func TestPullKeepsTheInstalledModelWhenAnUpdateFails(t *testing.T) {
	srv := newServer(t)
	v1 := testArchive(t)
	m := Model{Name: "asr", Kind: Offline, Source: srv.put("/v1.tgz", v1), SHA256: sum(v1), Root: "pkg", Files: []string{"model.onnx"}}
	dir := t.TempDir()
	if err := Pull(context.Background(), m, dir, nil); err != nil {
		t.Fatal(err)
	}
	bad := m
	bad.Source = srv.URL + "/gone.tgz"
	bad.SHA256 = sum([]byte("another version"))
	if err := Pull(context.Background(), bad, dir, nil); err == nil {
		t.Fatal("Pull of a missing file succeeded")
	}
	if _, err := Verify(filepath.Join(dir, "asr")); err != nil {
		t.Fatalf("the installed model was damaged by a failed update: %v", err)
	}

	v2 := gzipBytes(t, tarBytes(t, entry{name: "pkg/model.onnx", body: "better weights"}))
	m2 := m
	m2.Source, m2.SHA256 = srv.put("/v2.tgz", v2), sum(v2)
	if err := Pull(context.Background(), m2, dir, nil); err != nil {
		t.Fatal(err)
	}
	if got := tree(t, filepath.Join(dir, "asr"))["model.onnx"]; got != "better weights" {
		t.Fatalf("after the update model.onnx = %q", got)
	}
	if leftovers := hidden(t, dir); len(leftovers) != 0 {
		t.Fatalf("left behind: %v", leftovers)
	}
}

func TestPullDoesNotDownloadAnIntactModelAgain(t *testing.T) {
	srv := newServer(t)
	body := []byte("model")
	m := Model{Name: "vad", Kind: VAD, Source: srv.put("/vad.onnx", body), SHA256: sum(body)}
	dir := t.TempDir()
	for range 2 {
		if err := Pull(context.Background(), m, dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.count("/vad.onnx"); n != 1 {
		t.Fatalf("downloaded %d times, want 1", n)
	}
	// Once damaged, it is fetched again.
	os.WriteFile(filepath.Join(dir, "vad", "vad.onnx"), []byte("m0del"), 0o644)
	var out bytes.Buffer
	if err := Pull(context.Background(), m, dir, &out); err != nil {
		t.Fatal(err)
	}
	if n := srv.count("/vad.onnx"); n != 2 {
		t.Fatalf("a damaged model was not fetched again (%d downloads)", n)
	}
	if _, err := Verify(filepath.Join(dir, "vad")); err != nil {
		t.Fatal(err)
	}
}

func TestPullErrorsDoNotShowTokens(t *testing.T) {
	srv := newServer(t)
	m := Model{Name: "x", Kind: VAD, Source: srv.URL + "/missing?token=s3cr3t", SHA256: sum(nil)}
	err := Pull(context.Background(), m, t.TempDir(), nil)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error = %v", err)
	}
	m.Source = "http://user:s3cr3t@127.0.0.1:1/model?token=s3cr3t"
	err = Pull(context.Background(), m, t.TempDir(), nil)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error = %v", err)
	}
}

func TestPullRefusesABadModelDescription(t *testing.T) {
	good := Model{Name: "ok", Kind: VAD, Source: "https://example.org/m.onnx", SHA256: sum(nil)}
	bad := map[string]func(*Model){
		"name with a slash":  func(m *Model) { m.Name = "../x" },
		"hidden name":        func(m *Model) { m.Name = ".x" },
		"unknown kind":       func(m *Model) { m.Kind = "tts" },
		"short checksum":     func(m *Model) { m.SHA256 = "abc" },
		"upper-case hex":     func(m *Model) { m.SHA256 = strings.ToUpper(m.SHA256) },
		"not http":           func(m *Model) { m.Source = "file:///etc/passwd" },
		"file outside":       func(m *Model) { m.Files = []string{"../x"} },
		"absolute root":      func(m *Model) { m.Root = "/pkg" },
		"backslash in files": func(m *Model) { m.Files = []string{`a\b`} },
	}
	for name, change := range bad {
		m := good
		change(&m)
		if err := Pull(context.Background(), m, t.TempDir(), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestExtractLimits(t *testing.T) {
	big := gzipBytes(t, tarBytes(t, entry{name: "a", body: strings.Repeat("x", 64<<10)}))
	_, err := extract(bytes.NewReader(big), t.TempDir(), extractSpec{lim: limits{unpacked: 16 << 10, entries: 10}})
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("an archive expanding past the limit gave %v", err)
	}
	var many []entry
	for i := range 20 {
		many = append(many, entry{name: strings.Repeat("d", i+1), body: "x"})
	}
	_, err = extract(bytes.NewReader(tarBytes(t, many...)), t.TempDir(), extractSpec{lim: limits{unpacked: 1 << 20, entries: 10}})
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("an archive with too many entries gave %v", err)
	}
}

func TestExtractSkipsLinks(t *testing.T) {
	dir := t.TempDir()
	data := tarBytes(t,
		entry{name: "link", kind: '2', link: "/etc"},
		entry{name: "link/passwd", body: "owned"},
		entry{name: "hard", kind: '1', link: "/etc/passwd"},
		entry{name: "model.onnx", body: "m"},
	)
	written, err := extract(bytes.NewReader(data), dir, extractSpec{lim: defaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	got := tree(t, dir)
	if !reflect.DeepEqual(written, []string{"link/passwd", "model.onnx"}) || got["link/passwd"] != "owned" {
		t.Fatalf("written %v, tree %v", written, got)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "link")); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Fatalf("a symbolic link was created: %v", err)
	}
}

// testdata/model.tar.bz2 is laid out as the sherpa-onnx release archives
// are: one top directory with the model files, test audio and variants.
func TestPullUnpacksATarBz2LikeTheSherpaReleases(t *testing.T) {
	data, err := os.ReadFile("testdata/model.tar.bz2")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	m := Model{Name: "sherpa-test", Kind: Streaming, Source: srv.put("/sherpa-onnx-test.tar.bz2", data), SHA256: sum(data),
		Root: "sherpa-onnx-test", Files: []string{"encoder.int8.onnx", "decoder.onnx", "tokens.txt"}}
	dir := t.TempDir()
	if err := Pull(context.Background(), m, dir, nil); err != nil {
		t.Fatal(err)
	}
	got := tree(t, filepath.Join(dir, "sherpa-test"))
	delete(got, ManifestName)
	want := map[string]string{"encoder.int8.onnx": "encoder weights\n", "decoder.onnx": "decoder weights\n", "tokens.txt": "<blk> 0\na 1\n"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("installed %v, want %v", got, want)
	}
	m.Root = "sherpa-onnx-other"
	if err := Pull(context.Background(), m, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "directory sherpa-onnx-other of the archive holds no model files") {
		t.Fatalf("a wrong root gave %v", err)
	}
}
