//go:build linux || darwin

package sqlite

import "syscall"

// diskFull reports whether the file system holding dir has no block left
// for an unprivileged writer.
func diskFull(dir string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(dir, &st) == nil && st.Bavail == 0
}
