//go:build unix

package proc

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// groupKill is true where a Process runs in a process group of its own and
// the signals reach every process of the group.
const groupKill = true

// setGroup makes the process the leader of a new process group, whose id is
// its pid, so that one signal to -pid reaches it and every child it starts
// (unless a child leaves the group with setsid or setpgid).
func setGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the whole group to stop: SIGTERM.
func terminate(p *os.Process) { signalGroup(p, syscall.SIGTERM) }

// kill ends the whole group: SIGKILL.
func kill(p *os.Process) { signalGroup(p, syscall.SIGKILL) }

func signalGroup(p *os.Process, sig syscall.Signal) {
	if err := syscall.Kill(-p.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		// The group could not be signalled (it should always be): at
		// least the leader.
		_ = p.Signal(sig)
	}
}

// exitSignal reports the signal that ended the process, if one did.
func exitSignal(st *os.ProcessState) (os.Signal, bool) {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal(), true
	}
	return nil, false
}
