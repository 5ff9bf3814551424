package config

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func noEnv(string) (string, bool) { return "", false }

func TestTheSampleClusterConfigurationsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../deploy/cluster/*.yaml")
	if len(files) != 4 {
		t.Fatalf("sample configurations: %v", files)
	}
	for _, f := range files {
		c, err := Load([]string{"--config", f}, noEnv, io.Discard)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !c.MultiNode() || c.Cluster.URL == "" {
			t.Errorf("%s is no node of a cluster", f)
		}
	}
}

func TestAClusterOnSQLiteOrWithoutSharedSecretsIsRefused(t *testing.T) {
	node := []string{"--cluster.route_addr=127.0.0.1:6222", "--cluster.routes=127.0.0.1:6223",
		"--cluster.secret=a route secret of more than 32 characters"}
	shared := []string{"--database.url=postgres://db/visio", "--cluster.url=https://node1.example.org",
		"--tokens.secret=a token secret of more than 32 characters", "--turn.udp_port=0", "--turn.tcp_port=0",
		"--chat.max_file_bytes=0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{node[:2], "cluster.secret"},
		{node, "PostgreSQL"},
		{append(append([]string{}, node...), shared[0]), "cluster.url"},
		{append(append([]string{}, node...), shared[:2]...), "tokens.secret"},
		{append(append([]string{}, node...), shared[:3]...), "turn.secret"},
		{append(append([]string{}, node...), shared[:5]...), "chat.s3_bucket"},
		{[]string{"--cluster.routes=127.0.0.1:6223"}, "cluster.route_addr"},
		{[]string{"--cluster.route_addr=127.0.0.1:6222", "--cluster.nats_url=nats://n:4222", "--cluster.secret=a route secret of more than 32 characters"}, "not both"},
	} {
		_, err := Load(tc.args, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
	if _, err := Load(append(node, shared...), noEnv, io.Discard); err != nil {
		t.Errorf("a complete node is refused: %v", err)
	}
}
