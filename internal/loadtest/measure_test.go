package loadtest

import (
	"os"
	"testing"
	"time"
)

// The kernel's two accounts of this process's CPU time (getrusage and
// /proc) must agree, within /proc's 10 ms resolution.
func TestProcessCPUAgreesWithGetrusage(t *testing.T) {
	start := SelfCPU()
	for SelfCPU()-start < 300*time.Millisecond { // burn CPU
	}
	self := SelfCPU()
	proc, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if diff := self - proc; diff < -20*time.Millisecond || diff > 20*time.Millisecond {
		t.Fatalf("getrusage says %v, /proc says %v", self, proc)
	}
	if rss, err := ProcessRSS(os.Getpid()); err != nil || rss < 1<<20 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
}
