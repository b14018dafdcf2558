package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// TestPostgresThreeNodesKillOne runs three `hirehook serve` child processes
// on one database, sends a steady load round-robin through all three, and
// kill -9s one of them while it has attempts in flight, then keeps sending
// to the two survivors. Every accepted event must arrive at least once; the
// only duplicates allowed are events the dead node held, at most as many as
// it had in flight (measured at the receiver; its --endpoint-concurrency
// bounds it); its leases must be taken over within the lease plus a poll; and no
// delivery may be left 'delivering'.
func TestPostgresThreeNodesKillOne(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dsn := postgrestest.NewDatabase(t)
	key := seal.NewKey()

	const (
		lease       = 2 * time.Second
		endpointCap = 4  // --endpoint-concurrency: the most the dead node can have in flight
		rate        = 60 // events/s, all nodes together
		before      = 2 * time.Second
		after       = 3 * time.Second
		slow        = 50 * time.Millisecond
		dead        = 1 // index of the node that is killed
	)

	// The receiver answers every webhook after 50 ms, and records per
	// webhook-id how often it arrived, when each answer went out, and which
	// requests were abandoned by their sender (their connection closed
	// before the answer: the dead node's attempts in flight).
	type arrival struct {
		start, end time.Time
		abandoned  bool
	}
	var (
		mu       sync.Mutex
		arrivals = map[string][]arrival{}
		inFlight = map[string]int{} // webhook-id → requests being answered
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		a := arrival{start: time.Now()}
		mu.Lock()
		inFlight[id]++
		mu.Unlock()
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
			a.abandoned = true
		}
		a.end = time.Now()
		mu.Lock()
		inFlight[id]--
		arrivals[id] = append(arrivals[id], a)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()

	var nodes []*nodeProc
	for i := range 3 {
		cmd, base := startChild(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--encryption-key", key, "--admin-key", testKey,
			"--allow-private-destinations", "--delivery-timeout", "1s", "--delivery-lease", lease.String(),
			"--endpoint-concurrency", fmt.Sprint(endpointCap), "--retry-schedule", "100ms,100ms,100ms"})
		nodes = append(nodes, &nodeProc{cmd: cmd, base: base, index: i})
	}
	createEndpoint(t, nodes[0].base, rc.URL, "*")

	// The load: one event every 1/rate s, round-robin over the live nodes.
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		amu      sync.Mutex
		accepted = map[string]int{} // event id → node that answered 202
		refused  int
	)
	var killed time.Time
	var alive sync.Map // node index → true
	for i := range nodes {
		alive.Store(i, true)
	}
	send := func(n int, seq int) {
		id := fmt.Sprintf("evt_n%d_%05d", n, seq)
		body := placement(fmt.Sprintf("pl_3n_%d", seq))
		body["id"] = id
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", nodes[n].base+"/v1/events", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			amu.Lock()
			refused++
			amu.Unlock()
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		amu.Lock()
		if resp.StatusCode == http.StatusAccepted {
			accepted[id] = n
		} else {
			refused++
		}
		amu.Unlock()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		tick := time.NewTicker(time.Second / rate)
		defer tick.Stop()
		for seq, turn := 0, 0; ; seq++ {
			select {
			case <-stop:
				wg.Wait()
				return
			case <-tick.C:
			}
			n := turn % 3
			turn++
			if _, ok := alive.Load(n); !ok {
				n = turn % 3
				turn++
			}
			wg.Add(1)
			go func() { defer wg.Done(); send(n, seq) }()
		}
	}()

	// Kill the node once it has an attempt in flight, after the load has run
	// for a while.
	time.Sleep(before)
	deadPrefix := fmt.Sprintf("evt_n%d_", dead)
	waitFor(t, 5*time.Second, "the node to be killed to have an attempt in flight", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id, c := range inFlight {
			if c > 0 && strings.HasPrefix(id, deadPrefix) {
				return true
			}
		}
		return false
	})
	alive.Delete(dead)
	killed = time.Now()
	if err := nodes[dead].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = nodes[dead].cmd.Wait()

	time.Sleep(after)
	close(stop)
	<-loadDone

	amu.Lock()
	ids := make(map[string]int, len(accepted))
	for id, n := range accepted {
		ids[id] = n
	}
	nRefused := refused
	amu.Unlock()
	perNode := [3]int{}
	for _, n := range ids {
		perNode[n]++
	}
	if perNode[0] == 0 || perNode[1] == 0 || perNode[2] == 0 {
		t.Fatalf("accepted per node %v: the load did not go through all three", perNode)
	}

	waitFor(t, lease+10*time.Second, "every accepted event to be delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id := range ids {
			ok := false
			for _, a := range arrivals[id] {
				ok = ok || !a.abandoned
			}
			if !ok {
				return false
			}
		}
		return true
	})

	mu.Lock()
	// What the dead node had in flight: its attempts that had started
	// and not been answered at the kill.
	deadInFlight := 0
	for id, as := range arrivals {
		for _, a := range as {
			if strings.HasPrefix(id, deadPrefix) && a.start.Before(killed) && (a.abandoned || a.end.After(killed)) {
				deadInFlight++
			}
		}
	}
	dups, abandoned := 0, 0
	var dupIDs []string
	var takeover time.Duration // kill → answer to the last event the dead node held
	held := 0
	for id, as := range arrivals {
		if len(as) > 1 {
			dups += len(as) - 1
			dupIDs = append(dupIDs, id)
		}
		delivered := false
		var first time.Time
		for _, a := range as {
			if a.abandoned {
				abandoned++
				continue
			}
			if !delivered || a.end.Before(first) {
				first = a.end
			}
			delivered = true
		}
		if strings.HasPrefix(id, deadPrefix) && delivered && first.After(killed) {
			// Accepted by the dead node (leased to it at ingest) and
			// not answered before it died: another node took it over.
			held++
			takeover = max(takeover, first.Sub(killed))
		}
	}
	mu.Unlock()

	t.Logf("%d events accepted (per node %v), %d refused or cut off; dead node had %d attempts in flight at the kill, %d abandoned; "+
		"%d events it held delivered by the survivors, the last %v after the kill; %d duplicates %v",
		len(ids), perNode, nRefused, deadInFlight, abandoned, held, takeover.Round(time.Millisecond), dups, dupIDs)
	for _, id := range dupIDs {
		if !strings.HasPrefix(id, deadPrefix) {
			t.Errorf("event %s, not the dead node's, was delivered more than once", id)
		}
	}
	if dups > max(deadInFlight, abandoned) && dups > endpointCap {
		t.Errorf("%d duplicates, more than the dead node's %d attempts in flight (%d abandoned, endpoint concurrency %d)",
			dups, deadInFlight, abandoned, endpointCap)
	}
	if held == 0 {
		t.Errorf("the survivors took over none of the dead node's events")
	}
	if takeover >= lease+2*time.Second {
		t.Errorf("the dead node's leases were taken over %v after the kill, not within the %v lease plus a poll", takeover, lease)
	}

	// Nothing stays leased.
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	waitFor(t, 10*time.Second, "no delivery to be left 'delivering'", func() bool {
		var n int
		if err := raw.QueryRowContext(context.Background(), `SELECT count(*) FROM deliveries WHERE state <> 'delivered'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// nodeProc is one child hirehook process.
type nodeProc struct {
	cmd   *exec.Cmd
	base  string
	index int
}

// TestBenchRunsOnThreeNodes: `hirehook bench --nodes 3 --db postgres://…`
// spreads the producer over three hubs on one database; nothing is lost or
// doubled.
func TestBenchRunsOnThreeNodes(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "burst", "--events", "300", "--concurrency", "8", "--nodes", "3", "--db", dsn},
		func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"round-robin over 3 hubs", "ingested:     300 events", "delivered:    300 events", "(0 duplicates)"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
	}
	var errOut2 bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--nodes", "3"}, func(string) string { return "" }, io.Discard, &errOut2); code == 0 {
		t.Fatal("bench --nodes 3 on SQLite ran")
	}
}
