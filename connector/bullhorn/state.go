package bullhorn

import (
	"context"
	"strconv"
	"sync"
)

// LastState remembers the last status the connector saw of an entity, since
// Bullhorn's events name the fields that changed but not their old values.
// The lead's store can back it with the records hirehook already keeps.
type LastState interface {
	// LastStatus returns the last status recorded for entity id; ok is
	// false when there is none.
	LastStatus(ctx context.Context, entity string, id int64) (status string, ok bool, err error)
	// SetStatus records status for entity id. The poller calls it only
	// after the events derived from it were emitted.
	SetStatus(ctx context.Context, entity string, id int64, status string) error
}

// StateUpdate is one SetStatus the poller owes after an emit.
type StateUpdate struct {
	Entity string
	ID     int64
	Status string
}

// MemoryState is a LastState in memory, holding at most Max entries (default
// 100,000). When full it forgets an arbitrary entry: a forgotten status only
// costs a previous_stage, never an event. Safe for concurrent use.
type MemoryState struct {
	Max int

	mu sync.Mutex
	m  map[string]string
}

// LastStatus implements LastState.
func (s *MemoryState) LastStatus(_ context.Context, entity string, id int64) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[stateKey(entity, id)]
	return v, ok, nil
}

// SetStatus implements LastState.
func (s *MemoryState) SetStatus(_ context.Context, entity string, id int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	max := s.Max
	if max <= 0 {
		max = 100_000
	}
	k := stateKey(entity, id)
	if _, ok := s.m[k]; !ok && len(s.m) >= max {
		for old := range s.m {
			delete(s.m, old)
			break
		}
	}
	s.m[k] = status
	return nil
}

func stateKey(entity string, id int64) string { return entity + "/" + strconv.FormatInt(id, 10) }

// Checkpoint persists a poller's position, so that a restart neither loses
// nor repeats a batch. The lead backs it with the store; MemoryCheckpoint
// serves tests and the simulator.
type Checkpoint interface {
	// Load returns the saved state; the zero State when there is none.
	Load(ctx context.Context) (State, error)
	// Save replaces the saved state. It must be durable when it returns:
	// the poller saves a batch's RequestID before processing the batch.
	Save(ctx context.Context, s State) error
}

// State is what a Checkpoint holds.
type State struct {
	// RequestID is the last batch read from Bullhorn.
	RequestID int64 `json:"request_id"`
	// Pending is true from the moment a batch is read until its events
	// were emitted: a poller that starts with Pending set re-reads batch
	// RequestID before reading anything new.
	Pending bool `json:"pending"`
	// Seen holds the Bullhorn event ids of the most recent emitted events
	// (at most Poller.SeenSize), oldest first, so duplicates are dropped
	// across restarts too.
	Seen []string `json:"seen,omitempty"`
}

// MemoryCheckpoint is a Checkpoint in memory.
type MemoryCheckpoint struct {
	mu sync.Mutex
	s  State
}

// Load implements Checkpoint.
func (c *MemoryCheckpoint) Load(context.Context) (State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Seen = append([]string(nil), c.s.Seen...)
	return s, nil
}

// Save implements Checkpoint.
func (c *MemoryCheckpoint) Save(_ context.Context, s State) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.Seen = append([]string(nil), s.Seen...)
	c.s = s
	return nil
}
