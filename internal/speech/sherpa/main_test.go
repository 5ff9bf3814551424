package sherpa

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary act as the model check child of Probe.
// "check" runs the real Check; the other modes stand for the ways a child
// fails, for tests that need no model.
const childEnv = "VISIO_SHERPA_TEST_CHILD"

func TestMain(m *testing.M) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		os.Exit(m.Run())
	}
	args := os.Args[1:]
	if len(args) != 5 || args[0] != "models" || args[1] != "check" || args[2] != "--kind" {
		fmt.Fprintf(os.Stderr, "test child: unexpected arguments %q\n", args)
		os.Exit(3)
	}
	switch mode {
	case "check":
		if err := Check(args[3], args[4]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "ok":
		os.Exit(0)
	case "exit255":
		fmt.Fprintln(os.Stderr, "some/file.cc:Init:42 'n_mels' does not exist in the metadata")
		os.Exit(255)
	case "abort":
		// The Go runtime turns SIGABRT into a stack dump and exit 2; a
		// shell dies of it the way a native abort() does.
		syscall.Exec("/bin/sh", []string{"sh", "-c", "echo terminate called after throwing an instance of Ort::Exception >&2; kill -ABRT $$"}, os.Environ())
		os.Exit(4)
	case "hang":
		time.Sleep(time.Hour)
	}
	fmt.Fprintf(os.Stderr, "test child: unknown mode %q\n", mode)
	os.Exit(3)
}

// asChild makes the probes of the test run the test binary in mode.
func asChild(t testing.TB, mode string) string {
	t.Setenv(childEnv, mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}
