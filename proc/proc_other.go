//go:build !unix

package proc

import (
	"os"
	"os/exec"
)

// groupKill is false: outside Unix there are no process groups here, and
// only the process that Start started is killed, not its children.
const groupKill = false

func setGroup(*exec.Cmd) {}

// terminate kills the process at once: there is no SIGTERM to send.
func terminate(p *os.Process) { _ = p.Kill() }

// kill ends the process (not its children).
func kill(p *os.Process) { _ = p.Kill() }

// exitSignal reports no signal: none is known outside Unix.
func exitSignal(*os.ProcessState) (os.Signal, bool) { return nil, false }
