// Package web holds the built web app (TypeScript and Preact, built by
// esbuild into dist/), embedded so that `go build` alone gives a working UI.
// The sources are in src/; `make web` rebuilds dist/.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Files returns the built app: index.html and its assets.
func Files() fs.FS {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed directive guarantees dist exists
	}
	return files
}
