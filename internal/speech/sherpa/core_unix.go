//go:build sherpa && unix

package sherpa

import "syscall"

// noCoreDumps stops a crash of the model check from writing a core file of
// the whole process: the crash is expected, and reported by Probe.
func noCoreDumps() {
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
}
