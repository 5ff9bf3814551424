package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// The server is shared by all the tests of one binary: starting PostgreSQL
// takes seconds, creating a database on it milliseconds. This state lives
// as long as the test binary, which is why it is global.
var (
	mainCalled atomic.Bool
	once       sync.Once
	shared     *server
	startErr   error
	databases  atomic.Int64
)

// errNotInstalled says PostgreSQL's server programs are missing.
var errNotInstalled = errors.New("PostgreSQL server not installed (no initdb and postgres in " +
	"$VISIO_POSTGRES_BIN or /usr/lib/postgresql/*/bin): run scripts/deps.sh")

// Main runs the tests and then stops the PostgreSQL server if one was
// started.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
		}
	}
	os.Exit(code)
}

// Postgres returns the URL of a new, empty database on the test binary's
// private PostgreSQL server, started on first use. Without PostgreSQL
// installed the test is skipped, unless VISIO_REQUIRE_TEST_SERVICES=1 (as
// in CI), where it fails, so that a broken install cannot pass for green.
func Postgres(t testing.TB) string {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("storetest: call storetest.Main(m) from TestMain, so that the PostgreSQL server is stopped after the tests")
	}
	once.Do(func() { shared, startErr = start() })
	if startErr != nil {
		if errors.Is(startErr, errNotInstalled) && os.Getenv("VISIO_REQUIRE_TEST_SERVICES") != "1" {
			t.Skip("storetest:", startErr)
		}
		t.Fatal("storetest:", startErr)
	}
	name := fmt.Sprintf("test_%d", databases.Add(1))
	if err := shared.createDatabase(t.Context(), name); err != nil {
		t.Fatal("storetest:", err)
	}
	return shared.url(name)
}

type server struct {
	dir   string // data, socket and log; removed by stop
	port  int
	cmd   *exec.Cmd
	done  chan struct{} // closed when the server has exited
	admin *sql.DB
	// Concurrent CREATE DATABASE statements can fail while another one
	// copies the template database.
	mu sync.Mutex
}

const superuser = "visio"

func (s *server) url(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, database)
}

func (s *server) createDatabase(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// binDir finds PostgreSQL's programs: in $VISIO_POSTGRES_BIN if set (for
// installs that are not Debian's), else the newest one installed the Debian
// way.
func binDir() (string, error) {
	var dirs []string
	if dir := os.Getenv("VISIO_POSTGRES_BIN"); dir != "" {
		dirs = []string{dir}
	} else {
		dirs, _ = filepath.Glob("/usr/lib/postgresql/*/bin")
		version := func(dir string) int {
			v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
			return v
		}
		slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	}
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errNotInstalled
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// start makes a throw-away cluster in a temporary directory and runs it on
// loopback. PostgreSQL refuses to run as root, so as root it runs as the
// postgres user, which then owns the directory.
func start() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "visio-postgres-")
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		if cred, err = postgresUser(); err == nil {
			err = os.Chown(dir, int(cred.Uid), int(cred.Gid))
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", superuser,
		"-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// The free port may be taken again before the server binds it.
	for range 3 {
		s, err := run(bin, dir, cred)
		if err == nil || !strings.Contains(err.Error(), "could not bind") {
			if err != nil {
				os.RemoveAll(dir)
			}
			return s, err
		}
	}
	os.RemoveAll(dir)
	return nil, errors.New("no free port for PostgreSQL")
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts the server itself rather than through pg_ctl, as a child of
// the test binary that the kernel stops when the binary dies, even on a
// panic or a test timeout, so that no server outlives its tests.
func run(bin, dir string, cred *syscall.Credential) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"),
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		// Durability is pointless for a throw-away cluster, and costly on
		// a busy machine.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{dir: dir, port: port, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the log says why it exited
		close(s.done)
	}()
	if s.admin, err = sql.Open("pgx", s.url("postgres")); err == nil {
		err = s.waitReady(logPath)
	}
	if err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady(logPath string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited while starting:\n%s", log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after 60 s: %w", err)
		}
	}
}

func (s *server) kill() {
	if s.admin != nil {
		s.admin.Close()
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop shuts the server down (the "fast" way: it ends open sessions) and
// deletes its directory.
func (s *server) stop() error {
	s.admin.Close()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err == nil {
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("remove the PostgreSQL directory: %w", err)
	}
	return nil
}
