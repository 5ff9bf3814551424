//go:build sherpa && !unix

package sherpa

// noCoreDumps has nothing to do where crashes write no core file.
func noCoreDumps() {}
