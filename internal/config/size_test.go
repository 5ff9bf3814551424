package config

import (
	"io"
	"strings"
	"testing"
)

func TestChatSizesAreReadWithUnits(t *testing.T) {
	c, err := Load([]string{"--chat.max_file_bytes=512KiB"}, env(map[string]string{"VISIO_CHAT_MAX_MEETING_BYTES": "1 GB"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Chat.MaxFileBytes != 512<<10 || c.Chat.MaxMeetingBytes != 1e9 {
		t.Fatalf("sizes read as %d and %d", c.Chat.MaxFileBytes, c.Chat.MaxMeetingBytes)
	}
	if c, err := Load([]string{"--chat.max_file_bytes=1048576"}, env(nil), io.Discard); err != nil || c.Chat.MaxFileBytes != 1<<20 {
		t.Fatalf("a plain number of bytes: %v", err)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--chat.max_file_bytes=twenty"}, "not a size"},
		{[]string{"--chat.max_file_bytes=-1"}, "not a size"},
		{[]string{"--chat.max_file_bytes=99999999999TiB"}, "not a size"},
		{[]string{"--chat.max_file_bytes=300MiB"}, "more than chat.max_meeting_bytes (200MiB)"},
	} {
		_, err := Load(bad.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "chat.max_") {
			t.Errorf("%v: got %v, want an error about %q", bad.args, err, bad.want)
		}
	}
	if got := formatSize(20 << 20); got != "20MiB" {
		t.Fatalf("formatSize(20 MiB) = %s", got)
	}
	if got := formatSize(1000); got != "1000" {
		t.Fatalf("formatSize(1000) = %s", got)
	}
}
