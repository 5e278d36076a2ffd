package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Process is one control-plane process this package started.
type Process struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Binary is the executable's path; Stop checks /proc/PID/exe against it
	// so a PID reused by an unrelated process is never signalled.
	Binary string `json:"binary"`
	Log    string `json:"log"`
}

// startProcess starts binary detached from our session (it outlives
// `cluster up`), with stdout and stderr appended to logDir/name.log.
func startProcess(name, binary, logDir string, args ...string) (Process, error) {
	if resolved, err := filepath.EvalSymlinks(binary); err == nil {
		binary = resolved // /proc/PID/exe names the resolved path
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Process{}, fmt.Errorf("opening log for %s: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Process{}, fmt.Errorf("starting %s: %w", name, err)
	}
	// Reap it in the background if it dies while we still run, so alive()
	// does not see a zombie as running.
	go func() { _ = cmd.Wait() }()
	return Process{Name: name, PID: cmd.Process.Pid, Binary: binary, Log: logPath}, nil
}

// alive reports whether the process still runs and is still our binary.
func (p Process) alive() bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(p.PID) + "/exe")
	if err != nil {
		return false
	}
	if stat, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/stat"); err == nil {
		// Field 3 is the state; Z is a zombie that only awaits its parent.
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	return exe == p.Binary
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs. Stopping a process
// that has already gone is not an error.
func (p Process) stop(grace time.Duration) error {
	if !p.alive() {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping %s (pid %d): %w", p.Name, p.PID, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !p.alive() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing %s (pid %d): %w", p.Name, p.PID, err)
	}
	return nil
}

// tail returns the last n bytes of the process's log, for error messages.
func (p Process) tail(n int64) string {
	f, err := os.Open(p.Log)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, 0)
	}
	b := make([]byte, n)
	k, _ := f.Read(b)
	return string(b[:k])
}
