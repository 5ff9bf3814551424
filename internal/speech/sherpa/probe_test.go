package sherpa

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech/models"
)

func TestProbeReportsHowTheChildFailed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "whisper-tiny")
	cases := []struct {
		mode    string
		timeout time.Duration
		want    []string
	}{
		{"exit255", time.Minute, []string{"exit status 255", "'n_mels' does not exist", dir, "visio models pull whisper-tiny"}},
		{"abort", time.Minute, []string{"signal: aborted", "Ort::Exception", dir}},
		{"hang", 300 * time.Millisecond, []string{"took longer than 300ms", dir}},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			exe := asChild(t, c.mode)
			start := time.Now()
			err := probe(context.Background(), exe, CheckArgs(models.Offline, dir), c.timeout)
			if !errors.Is(err, ErrModelRejected) {
				t.Fatalf("probe = %v, want a rejected model", err)
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if time.Since(start) > 20*time.Second {
				t.Errorf("the probe took %v", time.Since(start))
			}
		})
	}
}

func TestProbeAcceptsAChildThatExitsCleanly(t *testing.T) {
	if err := Probe(context.Background(), asChild(t, "ok"), CheckArgs(models.VAD, "/models/vad")); err != nil {
		t.Fatal(err)
	}
}

func TestExecProberRunsThisProgramByDefault(t *testing.T) {
	asChild(t, "ok")
	if err := ExecProber("")(context.Background(), "vad", "/models/vad"); err != nil {
		t.Fatal(err)
	}
	asChild(t, "exit255")
	if err := ExecProber("")(context.Background(), "vad", "/models/vad"); !errors.Is(err, ErrModelRejected) {
		t.Fatalf("a failing check gave %v", err)
	}
}

func TestProbeSeparatesItsOwnFailures(t *testing.T) {
	err := Probe(context.Background(), "/nonexistent/visio", CheckArgs(models.VAD, "/models/vad"))
	if err == nil || errors.Is(err, ErrModelRejected) || !strings.Contains(err.Error(), "did not start") {
		t.Fatalf("a missing check program gave %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Probe(ctx, asChild(t, "hang"), CheckArgs(models.VAD, "/models/vad"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrModelRejected) {
		t.Fatalf("a cancelled probe gave %v", err)
	}
}

// vadDir makes a model directory holding a file that passes for a VAD.
func vadDir(t *testing.T) (string, modelFiles) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "silero_vad.onnx"), []byte("not really a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := findFiles(models.VAD, dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, f
}

func TestVetRemembersAPassedProbeByTheFilesHashes(t *testing.T) {
	dir, f := vadDir(t)
	v := newVetter(ExecProber(asChild(t, "ok")), nil)
	if err := v.vet(context.Background(), f, dir); err != nil {
		t.Fatal(err)
	}
	// Passed once, the same files are not probed again: a program that
	// cannot start would fail the probe.
	again := newVetter(ExecProber("/nonexistent/visio"), nil)
	if err := again.vet(context.Background(), f, dir); err != nil {
		t.Fatalf("the model was probed again: %v", err)
	}
	// Changed, it is.
	os.WriteFile(f.VAD, []byte("another file"), 0o644)
	if err := again.vet(context.Background(), f, dir); err == nil || !strings.Contains(err.Error(), "did not start") {
		t.Fatalf("a changed model was not probed again: %v", err)
	}
}

func TestVetDoesNotRememberAFailedProbe(t *testing.T) {
	dir, f := vadDir(t)
	for range 2 {
		v := newVetter(ExecProber(asChild(t, "exit255")), nil)
		if err := v.vet(context.Background(), f, dir); !errors.Is(err, ErrModelRejected) {
			t.Fatalf("vet = %v, want the model rejected each time", err)
		}
	}
}

func TestVetChecksTheManifestBeforeProbing(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "vad")
	os.Mkdir(dir, 0o755)
	model := filepath.Join(dir, "silero_vad_v5.onnx")
	os.WriteFile(model, []byte("the model as installed"), 0o644)
	h, err := models.HashFile(model)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(models.Manifest{Name: "vad", Kind: models.VAD, Files: []models.FileHash{h}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, models.ManifestName), manifest, 0o644)
	f, err := findFiles(models.VAD, dir)
	if err != nil {
		t.Fatal(err)
	}
	v := newVetter(ExecProber(asChild(t, "ok")), nil)
	if err := v.vet(context.Background(), f, dir); err != nil {
		t.Fatalf("an intact model was refused: %v", err)
	}
	os.WriteFile(model, []byte("the model, tampered"), 0o644)
	err = v.vet(context.Background(), f, dir)
	var damaged *models.DamagedError
	if !errors.Is(err, ErrModelRejected) || !errors.As(err, &damaged) || !strings.Contains(err.Error(), "visio models pull vad") {
		t.Fatalf("a tampered model gave %v", err)
	}
}

func TestProbeOutputKeepsTheNativeMessageOfACrash(t *testing.T) {
	var o output
	o.Write([]byte("terminate called after throwing an instance of 'Ort::Exception'\n  what():  Load model failed:Protobuf parsing failed.\nSIGABRT: abort\nPC=0x7f6c m=0 sigcode=18446744073709551610\n\ngoroutine 1 gp=0x26 m=0 [syscall]:\n"))
	o.Write([]byte(strings.Repeat("runtime.cgocall(0x79e8a0)\n", 2000)))
	o.Write([]byte("rax 0x0\nrbx 0x7\n"))
	message, crash := o.summary()
	if crash != "SIGABRT" || !strings.Contains(message, "Protobuf parsing failed") || strings.Contains(message, "PC=") {
		t.Fatalf("summary = %q, %q", message, crash)
	}
	o = output{}
	o.Write([]byte("loading\n/workspace/sherpa-onnx/csrc/silero-vad-model.cc:Init:224 Unsupported silero vad model\n"))
	if message, crash := o.summary(); crash != "" || !strings.HasSuffix(message, "Unsupported silero vad model") {
		t.Fatalf("summary = %q, %q", message, crash)
	}
}
