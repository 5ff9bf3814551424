package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "visio.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:8080" || c.Media.UDPPort != 7882 || c.Media.TCPPort != 7881 || c.Log.Level != "info" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestPrecedenceFileThenEnvThenFlag(t *testing.T) {
	path := writeFile(t, `
http:
  addr: 0.0.0.0:9000
media:
  udp_port: 10000
  tcp_port: 10001
  public_ips: [203.0.113.7, 203.0.113.8]
  ice_failed_timeout: 20s
rooms:
  max_participants: 50
log:
  level: debug
`)
	c, err := Load([]string{"--config", path, "--media.tcp_port=0"},
		env(map[string]string{"VISIO_MEDIA_UDP_PORT": "11000", "VISIO_MEDIA_TCP_PORT": "11001", "VISIO_LOG_FORMAT": "json"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "0.0.0.0:9000" {
		t.Errorf("file value lost: http.addr = %s", c.HTTP.Addr)
	}
	if c.Media.UDPPort != 11000 {
		t.Errorf("env must beat the file: media.udp_port = %d", c.Media.UDPPort)
	}
	if c.Media.TCPPort != 0 {
		t.Errorf("flag must beat env and file: media.tcp_port = %d", c.Media.TCPPort)
	}
	if c.Log.Format != "json" || c.Log.Level != "debug" || c.Rooms.MaxParticipants != 50 {
		t.Errorf("values lost: %+v", c.Log)
	}
	if strings.Join(c.Media.PublicIPs, ",") != "203.0.113.7,203.0.113.8" || c.Media.ICEFailedTimeout != 20*time.Second {
		t.Errorf("list or duration from the file lost: %v %v", c.Media.PublicIPs, c.Media.ICEFailedTimeout)
	}
}

func TestConfigFileFromEnvironment(t *testing.T) {
	path := writeFile(t, "rooms:\n  max_participants: 7\n")
	c, err := Load(nil, env(map[string]string{"VISIO_CONFIG": path}), io.Discard)
	if err != nil || c.Rooms.MaxParticipants != 7 {
		t.Fatalf("VISIO_CONFIG not read: %v %+v", err, c)
	}
}

// Every bad value stops start-up with an error naming the key and the source.
func TestBadValuesNameTheKey(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		file  string
		wants []string
	}{
		{"port in env", nil, map[string]string{"VISIO_MEDIA_UDP_PORT": "abc"}, "", []string{"media.udp_port", "VISIO_MEDIA_UDP_PORT", "abc"}},
		{"port range in flag", []string{"--media.udp_port=70000"}, nil, "", []string{"media.udp_port", "--media.udp_port", "70000"}},
		{"address", []string{"--http.addr=nowhere"}, nil, "", []string{"http.addr", "host:port"}},
		{"level", nil, map[string]string{"VISIO_LOG_LEVEL": "loud"}, "", []string{"log.level", "loud", "debug, info"}},
		{"duration in file", nil, nil, "media:\n  ice_failed_timeout: soon\n", []string{"media.ice_failed_timeout", "line 2", "soon"}},
		{"unknown key in file", nil, nil, "media:\n  udp_prot: 1\n", []string{"media.udp_prot", "unknown key", "line 2"}},
		{"range in file", nil, nil, "media:\n  tcp_port: -4\n", []string{"media.tcp_port", "line 2", "-4"}},
		{"public ip", nil, map[string]string{"VISIO_MEDIA_PUBLIC_IPS": "10.0.0.1,example.org"}, "", []string{"media.public_ips", "example.org"}},
		{"nested value", nil, nil, "media: 5\n", []string{"media", "mapping"}},
		{"unknown flag", []string{"--media.udp-port=1"}, nil, "", []string{"media.udp-port"}},
	}
	for _, c := range cases {
		args := c.args
		if c.file != "" {
			args = append(args, "--config", writeFile(t, c.file))
		}
		_, err := Load(args, env(c.env), io.Discard)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, want := range c.wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, want)
			}
		}
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out strings.Builder
	_, err := Load([]string{"--help"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help returned %v", err)
	}
	for _, s := range settings() {
		if !strings.Contains(out.String(), "--"+s.key) || !strings.Contains(out.String(), EnvName(s.key)) {
			t.Errorf("help does not list %s", s.key)
		}
	}
}

// The README's configuration reference is generated from the settings; this
// keeps it true. Regenerate with `go run ./cmd/visio config-reference`.
func TestReadmeListsTheSettings(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), Reference()) {
		t.Fatalf("README.md's configuration table is out of date; replace it with the output of `go run ./cmd/visio config-reference`:\n%s", Reference())
	}
}
