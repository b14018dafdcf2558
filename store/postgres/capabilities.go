package postgres

import "github.com/hirehook/hirehook"

var _ hirehook.Waker = (*Store)(nil)

// Capabilities implements hirehook.Store: the PostgreSQL store seals
// secrets at rest (seal.go), registers the nodes that share it (nodes.go)
// and wakes them through LISTEN/NOTIFY (listen.go).
func (s *Store) Capabilities() hirehook.Capabilities {
	return hirehook.Capabilities{Encryption: s, Nodes: s, Wake: s}
}
