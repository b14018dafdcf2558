//go:build !(linux || darwin)

package sqlite

// diskFull cannot tell here; an I/O error stays an I/O error.
func diskFull(string) bool { return false }
