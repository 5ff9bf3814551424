// Command visio is the whole Visio service in one binary: `visio serve` runs
// the web app, signalling and media server with embedded defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/server"
	"github.com/visio-meet/visio/internal/speech/models"
	"github.com/visio-meet/visio/internal/speech/sherpa"
	"github.com/visio-meet/visio/internal/token"
)

const usage = `Visio: video meetings on your own servers.

Usage:
  visio serve [--config FILE] [--KEY=VALUE ...]   run the server (see visio serve --help)
  visio token whip|whep --room CODE [--name NAME] [--ttl DURATION] [--config FILE]
                                                  print a token to publish (WHIP) or watch (WHEP)
  visio models known|list|pull NAME|verify [--dir DIR]
                                                  speech models: the known ones, the installed ones,
                                                  download one (checked by SHA-256), check them
  visio config-reference                          print the settings as a Markdown table
  visio version                                   print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "token":
		return issueToken(args[1:], stdout, stderr)
	case "models":
		return manageModels(args[1:], stdout, stderr)
	case "config-reference":
		fmt.Fprint(stdout, config.Reference())
		return 0
	case "version":
		fmt.Fprintln(stdout, version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "visio: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "visio (unknown version)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return "visio " + v + " " + info.GoVersion
}

func serve(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args, os.LookupEnv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "visio: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Start(cfg, server.Options{}, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	select {
	case <-ctx.Done():
		if cfg.MultiNode() && cfg.Cluster.DrainTimeout > 0 {
			log.Info("draining: no new meetings here; waiting for those going on to end, then moving them (a second signal stops at once)",
				"drain_timeout", cfg.Cluster.DrainTimeout)
			again, stopAgain := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			srv.Drain(again, cfg.Cluster.DrainTimeout)
			stopAgain()
		}
		log.Info("shutting down: telling participants and closing meetings")
	case err := <-srv.Done():
		log.Error("web server stopped", "err", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown was not clean", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// issueToken prints a token for WHIP or WHEP in one room, signed with the
// tokens.secret of the configuration (file, environment or flag).
func issueToken(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != string(token.ScopeWHIP) && args[0] != string(token.ScopeWHEP)) {
		fmt.Fprint(stderr, "visio token: say whip (to publish) or whep (to watch)\n\n"+usage)
		return 2
	}
	scope := token.Scope(args[0])
	fs := flag.NewFlagSet("visio token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	code := fs.String("room", "", "the meeting code or link")
	name := fs.String("name", "", "the name the meeting shows for the publisher or watcher")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	configFile := fs.String("config", "", "YAML configuration file with tokens.secret (or VISIO_CONFIG, or VISIO_TOKENS_SECRET)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	parsed, err := room.ParseCode(*code)
	if err != nil {
		fmt.Fprintf(stderr, "visio token: --room %q is not a meeting code or link\n", *code)
		return 2
	}
	configArgs := fs.Args()
	if *configFile != "" {
		configArgs = append([]string{"--config", *configFile}, configArgs...)
	}
	cfg, err := config.Load(configArgs, os.LookupEnv, io.Discard)
	if err != nil {
		fmt.Fprintf(stderr, "visio token: %v\n", err)
		return 2
	}
	if cfg.Tokens.Secret == "" {
		fmt.Fprintln(stderr, "visio token: tokens.secret is not set: set it in the configuration (or VISIO_TOKENS_SECRET) as the server has it")
		return 2
	}
	issuer, err := token.NewIssuer([]byte(cfg.Tokens.Secret))
	if err != nil {
		fmt.Fprintf(stderr, "visio token: tokens.secret: %v\n", err)
		return 2
	}
	tok, err := issuer.Issue(string(parsed), scope, *name, *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "visio token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// manageModels lists, downloads and checks speech models, in the directory
// of speech.sherpa.models_dir (from the configuration file or environment)
// unless --dir says otherwise. The server also runs `visio models check` in
// a child process before it loads a model: a bad model file crashes the
// process that loads it.
func manageModels(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(nil, os.LookupEnv, io.Discard)
	if err != nil {
		fmt.Fprintf(stderr, "visio: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli := models.CLI{Dir: cfg.Speech.Sherpa.ModelsDir, Out: stdout, Err: stderr, Check: sherpa.Check}
	switch err := cli.Run(ctx, args); {
	case errors.Is(err, models.ErrUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "visio models: %v\n", err)
		return 1
	}
	return 0
}
