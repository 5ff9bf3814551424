package models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func installTestModel(t *testing.T, dir string) Model {
	t.Helper()
	srv := newServer(t)
	data := testArchive(t)
	m := Model{Name: "asr", Kind: Offline, Source: srv.put("/asr.tgz", data), SHA256: sum(data),
		Root: "pkg", Files: []string{"model.onnx", "tokens.txt"}}
	if err := Pull(context.Background(), m, dir, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVerifyFindsTampering(t *testing.T) {
	cases := map[string]struct {
		change func(dir string) error
		want   string
	}{
		"changed file": {func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "model.onnx"), []byte("weightz"), 0o644)
		}, "model.onnx has changed"},
		"longer file": {func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte("a 1\nb 2\nc 3\n"), 0o644)
		}, "tokens.txt has changed"},
		"missing file": {func(dir string) error {
			return os.Remove(filepath.Join(dir, "tokens.txt"))
		}, "tokens.txt is missing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			installTestModel(t, root)
			dir := filepath.Join(root, "asr")
			if err := c.change(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(dir)
			var damaged *DamagedError
			if !errors.As(err, &damaged) {
				t.Fatalf("Verify after tampering = %v, want a DamagedError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, "run `visio models pull asr` again") {
				t.Fatalf("error %q should say %q and what to do", msg, c.want)
			}
			list, err := List(root)
			if err != nil || len(list) != 1 || list[0].Status != StatusCorrupt {
				t.Fatalf("List = %+v, %v; want asr corrupt", list, err)
			}
		})
	}
}

func TestVerifyRefusesManifestsThatLeaveTheirDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "m")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(root, "secret"), []byte("x"), 0o644)
	manifest := `{"name":"m","kind":"vad","files":[{"path":"../secret","size":1,"sha256":"` + sum([]byte("x")) + `"}]}`
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(manifest), 0o644)
	_, err := Verify(dir)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Verify = %v, want a damaged manifest", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestName), []byte("{not json"), 0o644)
	if _, err := Verify(dir); err == nil || !strings.Contains(err.Error(), "visio models pull m") {
		t.Fatalf("Verify of a broken manifest = %v", err)
	}
}

func TestListReportsEachModel(t *testing.T) {
	root := t.TempDir()
	installTestModel(t, root)
	os.Mkdir(filepath.Join(root, "by-hand"), 0o755)
	os.WriteFile(filepath.Join(root, "by-hand", "silero.onnx"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(root, ".install-partial"), 0o755)
	list, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, in := range list {
		got[in.Name] = in.Status
	}
	want := map[string]Status{"asr": StatusOK, "by-hand": StatusUnknown}
	if len(got) != len(want) || got["asr"] != want["asr"] || got["by-hand"] != want["by-hand"] {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if _, err := Verify(filepath.Join(root, "by-hand")); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("Verify without a manifest = %v, want ErrNoManifest", err)
	}
	if list, err := List(filepath.Join(root, "nowhere")); err != nil || len(list) != 0 {
		t.Fatalf("List of a missing directory = %v, %v", list, err)
	}
}

func TestCatalogEntriesArePullable(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Known() {
		if err := m.validate(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if seen[m.Name] {
			t.Errorf("%s listed twice", m.Name)
		}
		seen[m.Name] = true
		if m.Size <= 0 || len(m.Files) == 0 || m.Licence == "" {
			t.Errorf("%s: size, files and licence must be known for a catalog entry", m.Name)
		}
		if !strings.HasPrefix(m.Source, "https://") {
			t.Errorf("%s: catalog sources must use https", m.Name)
		}
		for f, h := range m.FileSHA256 {
			if !validSHA256(h) {
				t.Errorf("%s: bad checksum for %s", m.Name, f)
			}
		}
	}
	if _, ok := Lookup("silero-vad-v5"); !ok {
		t.Error("the catalog lacks the VAD model the server needs")
	}
}
