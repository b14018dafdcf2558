// Command stages splits a CPU profile of the hub among the stages of an
// event's way through it (HTTP in, decode, validation, the commit, …), for
// docs/performance.md's "Where the hub's CPU goes". It reads the output of
// `go tool pprof -traces` and gives each sample to the first stage, in the
// order of the table below, that names a frame of its stack, so that the
// stages add up to the whole profile:
//
//	hirehook bench --mode burst --cpuprofile hub.pprof
//	go tool pprof -traces hirehook hub.pprof | go run ./internal/bench/stages -events 20000
//
// Several profiles (runs) may be given to pprof at once; -events is then
// the events of all of them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stages are matched in this order: the first whose pattern matches a frame
// of a sample's stack takes the sample. More specific before more general
// (the record upsert runs inside the ingest commit, validation inside the
// request's handler).
var stages = []struct {
	name string
	re   *regexp.Regexp
}{
	{"start, stop, background loops (not per event)", regexp.MustCompile(`hub\.\(\*Hub\)\.(Open|Close)|sqlstore\.Migrate|retention\.|inbound\.\(\*Worker\)|sourceManager|opEmitter|backfill\.|Dispatcher\)\.(Stop|heartbeat|rescue|poll)`)},
	{"GC (marking, sweeping, assists)", regexp.MustCompile(`^runtime\.(gcBgMarkWorker|gcAssistAlloc|bgsweep|bgscavenge|gcStart|markroot|gcDrain)`)},
	{"claim (DeliveryClaim)", regexp.MustCompile(`DeliveryClaim|deliveryClaim`)},
	// SQLite's group transactions begin and commit around the statements
	// (in tryGroup); PostgreSQL's inside the store's methods (inTx), so
	// this stage comes before the statements' for both.
	{"commit: BEGIN, COMMIT (SQLite: WAL + fsync)", regexp.MustCompile(`database/sql\.\(\*Tx\)\.Commit|database/sql\.\(\*DB\)\.BeginTx`)},
	{"record upsert", regexp.MustCompile(`sqlite\.\(\*Store\)\.upsertRecords|postgres\.upsertRecords`)},
	{"commit: delivery rows (written leased)", regexp.MustCompile(`sqlite\.\(\*Store\)\.insertDeliveries|postgres\.(insertDeliveries|holdOrdered)`)},
	{"commit: event row", regexp.MustCompile(`sqlite\.\(\*Store\)\.(insertEvents|storedEvents|endpointVersion)|postgres\.(insertEvents|storedEvents|\(\*Store\)\.endpointVersion)|sqlstore\.write|sqlstore\.\(\*Ingest\)\.EventIngest`)},
	{"attempt row", regexp.MustCompile(`^attempt row$`)}, // marked in classify
	{"result commit (delivery row update)", regexp.MustCompile(`sqlite\.\(\*Store\)\.(deliveryComplete|DeliveryComplete)|postgres\.\(\*Store\)\.DeliveryComplete`)},
	{"commit: group loop, other", regexp.MustCompile(`sqlite\.\(\*Store\)\.(groupLoop|runGroup|tryGroup)|postgres\.\(\*Store\)\.(inTx|tryTx)`)},
	{"validation against the schema", regexp.MustCompile(`catalog\.\(\*Catalog\)\.ValidateEvent`)},
	{"request decode", regexp.MustCompile(`api\.decode`)},
	{"event build (payload render, JSON)", regexp.MustCompile(`ingest\.\(\*Ingester\)\.Prepare`)},
	{"hand-off (to the writer, to the dispatcher)", regexp.MustCompile(`ingest\.\(\*Ingester\)|Dispatcher\)\.(Enqueue|enqueueLocked|Notify)`)},
	{"sign", regexp.MustCompile(`hirehook\.\(\*Signer\)\.Sign`)},
	{"HTTP out", regexp.MustCompile(`delivery\.\(\*Sender\)|net/http\.\(\*persistConn\)|net/http\.\(\*Transport\)`)},
	{"dispatcher (lanes, decide, result hand-back)", regexp.MustCompile(`delivery\.`)},
	{"HTTP in (read, route, auth, respond)", regexp.MustCompile(`net/http\.\(\*conn\)\.serve|net/http\.\(\*connReader\)|server\.|api\.`)},
	{"runtime: scheduler, netpoll, other", regexp.MustCompile(`^runtime\.`)},
}

func main() {
	events := flag.Int("events", 0, "events the profiled runs delivered, to print µs/event")
	flag.Parse()
	sums, total, err := classify(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stages:", err)
		os.Exit(1)
	}
	fmt.Printf("%-50s %8s %6s %9s\n", "stage", "CPU", "%", "µs/event")
	for i, s := range append(stages, struct {
		name string
		re   *regexp.Regexp
	}{name: "other"}) {
		perEvent := 0.0
		if *events > 0 {
			perEvent = float64(sums[i].Microseconds()) / float64(*events)
		}
		fmt.Printf("%-50s %8s %6.1f %9.1f\n", s.name, sums[i].Round(10*time.Millisecond), 100*float64(sums[i])/float64(total), perEvent)
	}
	perEvent := 0.0
	if *events > 0 {
		perEvent = float64(total.Microseconds()) / float64(*events)
	}
	fmt.Printf("%-50s %8s %6.1f %9.1f\n", "total", total.Round(10*time.Millisecond), 100.0, perEvent)
}

// classify reads `go tool pprof -traces` output: blocks separated by
// "-----------+----…" lines, each a sample's value and its stack, leaf
// first. It returns the CPU time of each stage (the last, len(stages), is
// what none named) and the total.
func classify(r io.Reader) (sums []time.Duration, total time.Duration, err error) {
	sums = make([]time.Duration, len(stages)+1)
	var frames []string
	var value time.Duration
	flush := func() {
		if len(frames) == 0 {
			return
		}
		// The attempt rows are the INSERT that deliveryComplete executes
		// through execRows (the rows' update is a query, queryRows).
		for i, f := range frames {
			if strings.Contains(f, "sqlite.(*Store).deliveryComplete") {
				if slices.ContainsFunc(frames[:i], func(f string) bool { return strings.Contains(f, "sqlite.(*Store).execRows") }) {
					frames = append(frames, "attempt row")
				}
				break
			}
		}
		total += value
		i := 0
		for ; i < len(stages); i++ {
			if matchAny(stages[i].re, frames) {
				break
			}
		}
		sums[i] += value
		frames = frames[:0]
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	started := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			flush()
			started = true
			continue
		}
		if !started || strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(frames) == 0 {
			// The first line of a sample: its value, then the leaf.
			if value, err = parseValue(fields[0]); err != nil {
				return nil, 0, err
			}
			fields = fields[1:]
		}
		if len(fields) > 0 {
			frames = append(frames, fields[0])
		}
	}
	flush()
	if total == 0 {
		return nil, 0, fmt.Errorf("no samples read: pipe in `go tool pprof -traces BINARY PROFILE`")
	}
	return sums, total, sc.Err()
}

func matchAny(re *regexp.Regexp, frames []string) bool {
	for _, f := range frames {
		if re.MatchString(f) {
			return true
		}
	}
	return false
}

// parseValue reads a sample's value as pprof -traces prints it: 10ms, 1.2s.
func parseValue(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n), nil // nanoseconds
	}
	return 0, fmt.Errorf("sample value %q is not a duration", s)
}
