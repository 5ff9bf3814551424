package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/protocol"
)

// fill keeps synthetic participants in one meeting of a running server, to
// see a large meeting from a browser (or test one) without as many people:
// each publishes a camera (three layers), a microphone or both, and watches
// no video, so that it costs the server only what it sends.
func fill(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("visio-load fill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "base URL of the running server (required)")
	code := fs.String("room", "", "room code of the meeting to fill (required)")
	cameras := fs.Int("cameras", 12, "participants who publish a camera")
	microphones := fs.Int("microphones", 0, "participants who publish only a microphone")
	speakers := fs.Int("speakers", 0, "how many of those with a camera also publish a microphone")
	name := fs.String("name", "Robot", "name prefix: Robot 1, Robot 2…")
	duration := fs.Duration("duration", 0, "how long they stay; 0: until interrupted")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" || *code == "" {
		fmt.Fprintln(stderr, "visio-load fill: --url and --room are required")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	var joined []*client.Client
	defer func() {
		for _, c := range joined {
			leave, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = c.Leave(leave)
			cancel()
		}
	}()
	for i := range *cameras + *microphones {
		sources := []protocol.Source{protocol.SourceCamera}
		if i < *speakers {
			sources = append(sources, protocol.SourceMicrophone)
		}
		if i >= *cameras {
			sources = []protocol.Source{protocol.SourceMicrophone}
		}
		c, err := client.Join(ctx, client.Options{URL: *url, Room: *code, Name: fmt.Sprintf("%s %d", *name, i+1), Simulcast: true})
		if err != nil {
			fmt.Fprintf(stderr, "visio-load fill: participant %d: %v\n", i+1, err)
			return 1
		}
		joined = append(joined, c)
		// An empty view pauses every video sent to it.
		if err := c.SetView(ctx, nil); err != nil {
			fmt.Fprintf(stderr, "visio-load fill: participant %d: %v\n", i+1, err)
			return 1
		}
		if err := c.Publish(ctx, sources...); err != nil {
			fmt.Fprintf(stderr, "visio-load fill: participant %d: %v\n", i+1, err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "%d participants in %s\n", len(joined), *code)
	<-ctx.Done()
	return 0
}
