package sqlite

import "github.com/hirehook/hirehook"

// Capabilities implements hirehook.Store: the SQLite store seals secrets
// at rest. It is one process's store, so it has no node registry and no
// wake-ups (the dispatcher beside it is told directly).
func (s *Store) Capabilities() hirehook.Capabilities {
	return hirehook.Capabilities{Encryption: s}
}
