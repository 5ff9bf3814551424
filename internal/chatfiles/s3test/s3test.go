// Package s3test starts a real S3 server for tests: versitygw, on a free
// loopback port, keeping its buckets in a temporary directory, stopped when
// the test ends. Without versitygw installed (scripts/deps.sh installs it)
// the test is skipped, unless VISIO_REQUIRE_TEST_SERVICES=1 (as in CI),
// where it fails.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Server is a running versitygw with one empty bucket.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
}

// binary finds versitygw: $VISIO_VERSITYGW, the PATH, or where `go
// install` puts it.
func binary() (string, error) {
	if path := os.Getenv("VISIO_VERSITYGW"); path != "" {
		return path, nil
	}
	if path, err := exec.LookPath("versitygw"); err == nil {
		return path, nil
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		path := filepath.Join(dir, "bin", "versitygw")
		if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", errors.New("versitygw, the S3 server of the object-storage tests, is not installed (not in $VISIO_VERSITYGW, " +
		"the PATH or $GOPATH/bin): run scripts/deps.sh")
}

// Start runs versitygw for the test and makes a bucket on it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binary()
	if err != nil {
		if os.Getenv("VISIO_REQUIRE_TEST_SERVICES") != "1" {
			t.Skip("s3test:", err)
		}
		t.Fatal("s3test:", err)
	}
	s := &Server{Region: "us-east-1", Bucket: "visio-test", AccessKey: "visio-test-access", SecretKey: "visio-test-secret-" + strconv.Itoa(os.Getpid())}
	// The free port may be taken again before versitygw binds it.
	for attempt := 0; ; attempt++ {
		err = s.run(t, bin)
		if err == nil {
			break
		}
		if attempt == 2 {
			t.Fatal("s3test:", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Bucket}); err != nil {
		t.Fatal("s3test: create bucket:", err)
	}
	return s
}

// run starts versitygw and waits until it answers, and stops it when the
// test ends.
func (s *Server) run(t testing.TB, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var output strings.Builder
	cmd := exec.Command(bin, "--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "--quiet", "posix", t.TempDir())
	cmd.Stdout, cmd.Stderr = &output, &output
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphan if the test binary dies
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited (%v): %s", err, output.String())
		case <-time.After(50 * time.Millisecond):
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("versitygw did not listen on %s within 15 s: %s", addr, output.String())
		}
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	s.Endpoint = "http://" + addr
	return nil
}

// Client returns an S3 client of the server, for tests to look at what is
// stored.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:                     s.Region,
		BaseEndpoint:               aws.String(s.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
