package cluster

import (
	"fmt"
	"os"
	"syscall"
)

// lock serialises Up and Down across processes: `go test ./...` runs test
// packages in parallel, and each may ask for the cluster at once. The lock
// file sits beside the state directory, which Up deletes and recreates.
func (c Config) lock() (unlock func(), err error) {
	f, err := os.OpenFile(c.Dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening cluster lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
