package models

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// CLI is the `visio models` command.
type CLI struct {
	Dir string    // the model directory; "" uses DefaultDir
	Out io.Writer // results
	Err io.Writer // progress and usage
	// Check loads a model in this process and frees it: the server runs
	// `visio models check` in a child process before its first load of a
	// model, since a bad model ends the process that loads it. Nil when the
	// program was built without an engine that can load models.
	Check func(kind, dir string) error
}

// Usage describes the command.
const Usage = `usage: visio models COMMAND [--dir DIR]

  known                      the models Visio can fetch
  list                       the installed models and whether they are intact
  pull NAME                  fetch a model of the catalog (or again an installed one)
  pull --name NAME --kind KIND --url URL --sha256 HEX [--language LANG] [--size BYTES]
                             fetch a model the catalog lacks; KIND is vad,
                             asr-streaming or asr-offline; the SHA-256 is that of
                             the file at URL (an archive is unpacked)
  verify NAME                check every file of an installed model
  check --kind KIND PATH     load a model once in this process (the server runs it
                             in a child process before it loads a model)
`

// ErrUsage is returned for a command line that does not fit Usage.
var ErrUsage = errors.New("bad command line; see `visio models help`")

// Run runs the command given by args (without "models").
func (c CLI) Run(ctx context.Context, args []string) error {
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Err == nil {
		c.Err = io.Discard
	}
	if len(args) == 0 {
		fmt.Fprint(c.Err, Usage)
		return ErrUsage
	}
	fs := flag.NewFlagSet("visio models "+args[0], flag.ContinueOnError)
	fs.SetOutput(c.Err)
	fs.Usage = func() { fmt.Fprint(c.Err, Usage) }
	dir := fs.String("dir", c.Dir, "model directory")
	name := fs.String("name", "", "model name")
	kind := fs.String("kind", "", "model kind")
	source := fs.String("url", "", "address of the model file or archive")
	sum := fs.String("sha256", "", "SHA-256 of the file at --url")
	lang := fs.String("language", "", "language of the model")
	size := fs.Int64("size", 0, "size of the file at --url in bytes")
	rest, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return ErrUsage
	}
	if *dir == "" {
		if *dir, err = DefaultDir(); err != nil {
			return err
		}
	}
	switch args[0] {
	case "known":
		return c.known()
	case "list":
		return c.list(*dir)
	case "pull":
		m, err := c.pullTarget(*dir, rest, *name, *kind, *source, *sum, *lang, *size)
		if err != nil {
			return err
		}
		return Pull(ctx, m, *dir, c.Err)
	case "verify":
		if len(rest) != 1 {
			fmt.Fprint(c.Err, Usage)
			return ErrUsage
		}
		target := rest[0]
		if !strings.ContainsRune(target, filepath.Separator) {
			target = filepath.Join(*dir, target)
		}
		m, err := Verify(target)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Out, "%s: ok (%d files)\n", m.Name, len(m.Files))
		return nil
	case "check":
		if len(rest) != 1 || *kind == "" {
			fmt.Fprint(c.Err, Usage)
			return ErrUsage
		}
		if _, err := ParseKind(*kind); err != nil {
			return err
		}
		if c.Check == nil {
			return errors.New("this visio cannot load models: it was built without sherpa-onnx (build with `go build -tags sherpa`)")
		}
		return c.Check(*kind, rest[0])
	case "help", "-h", "--help":
		fmt.Fprint(c.Out, Usage)
		return nil
	}
	fmt.Fprint(c.Err, Usage)
	return ErrUsage
}

// parseInterleaved lets flags follow positional arguments ("pull NAME
// --dir D"), which the flag package alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// pullTarget finds what `pull` is to fetch: a model of the catalog, one
// described on the command line, or an installed one from its manifest.
func (c CLI) pullTarget(dir string, rest []string, name, kind, source, sum, lang string, size int64) (Model, error) {
	if source != "" || sum != "" {
		if len(rest) != 0 || name == "" || kind == "" || source == "" || sum == "" {
			fmt.Fprint(c.Err, Usage)
			return Model{}, fmt.Errorf("%w: --url needs --name, --kind and --sha256", ErrUsage)
		}
		k, err := ParseKind(kind)
		if err != nil {
			return Model{}, err
		}
		return Model{Name: name, Kind: k, Language: lang, Source: source, SHA256: strings.ToLower(sum), Size: size}, nil
	}
	if len(rest) != 1 {
		fmt.Fprint(c.Err, Usage)
		return Model{}, ErrUsage
	}
	if m, ok := Lookup(rest[0]); ok {
		return m, nil
	}
	if validName(rest[0]) {
		if man, err := ReadManifest(filepath.Join(dir, rest[0])); err == nil && man.Source != "" {
			return Model{Name: man.Name, Kind: man.Kind, Language: man.Language, Licence: man.Licence,
				Source: man.Source, SHA256: man.SHA256}, nil
		}
	}
	return Model{}, fmt.Errorf("no model %q in the catalog (see `visio models known`); fetch another model with --name, --kind, --url and --sha256", rest[0])
}

func (c CLI) known() error {
	tw := tabwriter.NewWriter(c.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tLANGUAGE\tSIZE\tDESCRIPTION")
	for _, m := range Known() {
		lang := m.Language
		if lang == "" {
			lang = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f MB\t%s\n", m.Name, m.Kind, lang, float64(m.Size)/1e6, m.Description)
	}
	return tw.Flush()
}

func (c CLI) list(dir string) error {
	installed, err := List(dir)
	if err != nil {
		return err
	}
	if len(installed) == 0 {
		fmt.Fprintf(c.Out, "no models in %s; fetch one with `visio models pull NAME` (see `visio models known`)\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(c.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATUS\tDETAIL")
	for _, in := range installed {
		kind, detail := string(in.Manifest.Kind), ""
		if kind == "" {
			kind = "-"
		}
		if in.Problem != nil {
			detail = in.Problem.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.Name, kind, in.Status, detail)
	}
	return tw.Flush()
}
