package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/testwait"
)

// RunCapabilities checks that a store does what its Capabilities declare,
// one test per capability; a capability the store does not declare is
// skipped. (RunSecretsAtRest checks the Encryption capability in depth,
// on one database opened several times.)
func RunCapabilities(t *testing.T, newStore NewStoreFunc) {
	t.Run("Encryption", func(t *testing.T) { t.Parallel(); testCapabilityEncryption(t, newStore) })
	t.Run("Nodes", func(t *testing.T) { t.Parallel(); testCapabilityNodes(t, newStore) })
	t.Run("Wake", func(t *testing.T) { t.Parallel(); testCapabilityWake(t, newStore) })
}

// testCapabilityEncryption: a store that declares Encryption checks its
// keys and upgrades what it holds; both operations succeed on a store
// whose secrets it wrote itself, and leave its endpoints readable.
func testCapabilityEncryption(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	enc := s.Capabilities().Encryption
	if enc == nil {
		t.Skip("the store does not declare Encryption")
	}
	e := newEndpoint(t, s, tenant, "*")
	must(t, enc.CheckEncryption(ctx))
	if _, err := enc.UpgradeSecrets(ctx); err != nil {
		t.Fatalf("UpgradeSecrets: %v", err)
	}
	must(t, enc.CheckEncryption(ctx))
	got, err := s.EndpointGet(ctx, tenant, e.ID)
	must(t, err)
	if len(got.Secrets) != 1 || got.Secrets[0].Value != e.Secrets[0].Value || got.Headers["X-Agency"] != "acme" {
		t.Errorf("after UpgradeSecrets the endpoint reads secrets %v, headers %v", got.Secrets, got.Headers)
	}
}

// testCapabilityNodes: a store that declares Nodes answers each heartbeat
// with the live nodes, sorted, forgets a node that leaves, and refuses an
// empty node or TTL with EINVALID.
func testCapabilityNodes(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	reg := s.Capabilities().Nodes
	if reg == nil {
		t.Skip("the store does not declare Nodes")
	}
	beat := func(node string) []string {
		t.Helper()
		live, err := reg.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{Node: node, TTL: time.Minute, LeaseTTL: time.Minute})
		must(t, err)
		return live
	}
	beat("node_b")
	if got, want := beat("node_a"), []string{"node_a", "node_b"}; !slices.Equal(got, want) {
		t.Errorf("live nodes = %v, want %v", got, want)
	}
	must(t, reg.NodeLeave(ctx, "node_a"))
	if got, want := beat("node_b"), []string{"node_b"}; !slices.Equal(got, want) {
		t.Errorf("live nodes after node_a left = %v, want %v", got, want)
	}
	_, err := reg.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{TTL: time.Minute})
	wantCode(t, err, hirehook.EINVALID)
	_, err = reg.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{Node: "node_c"})
	wantCode(t, err, hirehook.EINVALID)
}

// testCapabilityWake: a store that declares Wake calls the listener once
// it listens, and again when an ingest makes deliveries due; Listen
// returns nil when its context ends.
func testCapabilityWake(t *testing.T, newStore NewStoreFunc) {
	s := newStore(t)
	wake := s.Capabilities().Wake
	if wake == nil {
		t.Skip("the store does not declare Wake")
	}
	var calls atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- wake.Listen(ctx, func() { calls.Add(1) }) }()
	t.Cleanup(func() { // before the store closes (cleanups run last first)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen returned %v after its context ended, want nil", err)
		}
	})
	detail := func() string { return fmt.Sprintf("%d calls", calls.Load()) }
	testwait.For(t, 10*time.Second, "Listen to call fn once it listens", func() bool { return calls.Load() > 0 }, detail)
	before := calls.Load()
	newEndpoint(t, s, tenant, "candidate.*")
	ingest(t, s, newEvent(tenant, "candidate.created", "cand_1", `{"id":"cand_1"}`))
	testwait.For(t, 10*time.Second, "Listen to call fn when deliveries became due", func() bool { return calls.Load() > before }, detail)
}
