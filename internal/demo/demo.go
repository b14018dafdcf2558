// Package demo is `hirehook demo`: a hub, a simulated Bullhorn, the
// onboarding example (examples/onboarding) and an SMTP sink in one process,
// timed from approval to welcome email. It is a package of its own so
// that the hub's serve path links neither the example nor its SMTP server.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/connector/bullhorn/bullhornsim"
	"github.com/hirehook/hirehook/examples/onboarding/onboarding"
	"github.com/hirehook/hirehook/internal/cli"
	"github.com/hirehook/hirehook/internal/hub"
)

// demoOptions are the flags of `hirehook demo`.
type demoOptions struct {
	// Addr is the hub's address; "" takes serve's default address
	// (hub.DefaultConfig().Addr) if it is free, else any free port.
	Addr string
	// Placements is how many placements to approve.
	Placements int
	// PollInterval is the Bullhorn source's poll interval.
	PollInterval time.Duration
	// Spacing is the time between two approvals.
	Spacing time.Duration
	// Timeout bounds the wait for the last welcome email.
	Timeout time.Duration
	// Exit stops after the timeline instead of waiting for ctx.
	Exit bool
	// TempDir holds the demo's temporary directory (deleted at the end);
	// "" is the system's.
	TempDir string
	// Logger receives the components' logs (warnings and errors).
	Logger *slog.Logger
}

// Run is `hirehook demo`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("demo", stdout)
	if len(args) > 0 && args[0] == "help" {
		fs.Usage()
		return flag.ErrHelp
	}
	opts := demoOptions{Spacing: 20 * time.Millisecond}
	fs.StringVar(&opts.Addr, "addr", "", "the hub's address (default "+hub.DefaultConfig().Addr+" if free, else a free port)")
	fs.IntVar(&opts.Placements, "placements", 1, "how many placements to approve; above 1 the p50/p99 end-to-end times are printed")
	fs.DurationVar(&opts.PollInterval, "poll-interval", 200*time.Millisecond, "how often the Bullhorn source polls (a real source: 2s by default)")
	fs.DurationVar(&opts.Timeout, "timeout", time.Minute, "how long to wait for the last welcome email")
	fs.BoolVar(&opts.Exit, "exit", false, "stop after printing the timeline (for tests and CI)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case opts.Placements < 1 || opts.Placements > 10000:
		return &hub.ConfigError{Field: "placements", Value: strconv.Itoa(opts.Placements), Err: errors.New("must be 1 to 10000")}
	case opts.PollInterval < 100*time.Millisecond:
		return &hub.ConfigError{Field: "poll-interval", Value: opts.PollInterval.String(), Err: errors.New("must be at least 100ms")}
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	_, err := demo(ctx, opts, stdout)
	return err
}

// demoResult is what a demo run did, placement by placement.
type demoResult struct {
	Traces []demoTrace
	// Counts of what exists at the end, to check nothing happened twice.
	Events, Deliveries, NewHires, Mails, PacketDocs int
}

// demoTrace is one placement's way from Bullhorn to the new hire's inbox.
// Each time is read where it is recorded; the clocks are the same machine's.
type demoTrace struct {
	BullhornID int
	Placement  string // hirehook's placement id (bh_<Bullhorn id>)
	// Approved is when the demo changed the placement's status in the
	// simulator (Bullhorn stamps its event with the same moment, in ms).
	Approved time.Time
	// Read is when the simulator answered the source's poll with the event.
	Read time.Time
	// EventID and Ingested (the event's received_at) come from GET /v1/events.
	EventID  string
	Ingested time.Time
	// AttemptAt is when the delivering attempt started; AttemptStatus and
	// AttemptLatency are its answer; Attempts counts the delivery's tries.
	AttemptAt      time.Time
	AttemptStatus  int
	AttemptLatency time.Duration
	Attempts       int
	// Created is the new hire's created_at in the receiver; its packet is
	// queued in the same transaction.
	Created time.Time
	Name    string
	Packet  []string
	// MailAt is when the SMTP sink accepted the welcome email; WelcomeSent
	// is when the receiver marked it sent (after the sink's answer).
	MailAt      time.Time
	MailTo      string
	WelcomeSent time.Time
}

// demoEnv is the running demo: every component, in this process.
type demoEnv struct {
	tmp      string
	sim      *bullhornsim.Sim
	simSrv   *http.Server
	simURL   string
	reads    *pollRecorder
	sink     *onboarding.Sink
	hub      *hub.Hub
	key      string
	svc      *onboarding.Service
	rcvSrv   *http.Server
	rcvURL   string
	runStop  context.CancelFunc
	runDone  chan struct{}
	hh       *client.Client
	endpoint string
	spare    int // a placement left for the newcomer to approve
}

// demo starts everything, approves opts.Placements placements, prints the
// timeline and, unless opts.Exit, waits for ctx before stopping.
func demo(ctx context.Context, opts demoOptions, out io.Writer) (*demoResult, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	env := &demoEnv{}
	defer env.close(opts.Logger)
	placements, err := env.start(ctx, opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "hirehook demo: a hub on %s (temporary SQLite), a simulated Bullhorn, the onboarding receiver and an SMTP sink\n", env.hub.URL())
	fmt.Fprintf(out, "  Bullhorn source polls the simulator every %v; the onboarding endpoint takes placement.confirmed through a jq transform\n\n", opts.PollInterval)

	res, err := env.approve(ctx, opts, placements)
	if err != nil {
		return nil, err
	}
	printDemo(out, res, opts)
	if err := res.check(len(placements)); err != nil {
		return res, err
	}
	if opts.Exit {
		return res, nil
	}
	fmt.Fprintf(out, "\nEverything keeps running. Look around:\n")
	fmt.Fprintf(out, "  dashboard   %s/   (sign in with the API key)\n", env.hub.URL())
	fmt.Fprintf(out, "  API key     %s\n", env.key)
	fmt.Fprintf(out, "  API         curl -H \"Authorization: Bearer %s\" %s/v1/events\n", env.key, env.hub.URL())
	fmt.Fprintf(out, "  CLI         export HIREHOOK_URL=%s HIREHOOK_API_KEY=%s\n", env.hub.URL(), env.key)
	fmt.Fprintf(out, "              then, in that shell: hirehook deliveries list\n")
	fmt.Fprintf(out, "  new hires   %s/new-hires   (the onboarding receiver's records)\n", env.rcvURL)
	fmt.Fprintf(out, "  Bullhorn    approve one more: curl -X PATCH -d '{\"status\":\"Approved\"}' %s/admin/entity/Placement/%d\n", env.simURL, env.spare)
	fmt.Fprintf(out, "Ctrl-C stops everything and deletes the temporary database.\n\n")
	printed := map[string]bool{}
	for _, t := range res.Traces {
		printed[t.Placement] = true
	}
	env.follow(ctx, out, opts.Logger, printed)
	fmt.Fprintln(out, "stopping")
	return res, nil
}

// follow prints a line for each placement confirmed after the timeline (a
// newcomer approving one in the simulator), until ctx ends. Its approval
// time is Bullhorn's event time (to the millisecond), as the hub has it.
func (env *demoEnv) follow(ctx context.Context, out io.Writer, logger *slog.Logger, printed map[string]bool) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-env.sink.Received():
		case <-tick.C:
		}
		nhs, err := env.svc.NewHires(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("demo: read new hires", logkey.Error, err)
			}
			continue
		}
		for _, nh := range nhs {
			if printed[nh.PlacementID] || nh.WelcomeSentAt == nil {
				continue
			}
			page, err := env.hh.ListEvents(ctx, client.EventListParams{Type: "placement.confirmed", SubjectID: nh.PlacementID})
			if err != nil || len(page.Data) == 0 {
				continue // the next tick tries again
			}
			printed[nh.PlacementID] = true
			ev := page.Data[0]
			mailAt := *nh.WelcomeSentAt
			for _, m := range env.sink.Mails() {
				if sm := welcomeID.FindSubmatch(m.Data); sm != nil && string(sm[1]) == nh.PlacementID {
					mailAt = m.At
					break
				}
			}
			fmt.Fprintf(out, "  %s  placement %s (%s %s) approved in Bullhorn → ingested +%s → new hire and packet +%s → welcome email received +%s\n",
				ev.OccurredAt.Local().Format("15:04:05.000"), nh.PlacementID, nh.GivenName, nh.FamilyName,
				ms(ev.ReceivedAt.Sub(ev.OccurredAt)), ms(nh.CreatedAt.Sub(ev.OccurredAt)), ms(mailAt.Sub(ev.OccurredAt)))
		}
	}
}

// start runs the components and connects them; it returns the Bullhorn ids
// of the placements to approve.
func (env *demoEnv) start(ctx context.Context, opts demoOptions) ([]int, error) {
	var err error
	if env.tmp, err = os.MkdirTemp(opts.TempDir, "hirehook-demo-"); err != nil {
		return nil, err
	}

	// The simulated Bullhorn: the demo agency, and a placement ("Placed")
	// per approval to make, plus a spare one.
	env.sim = bullhornsim.New(bullhornsim.Config{})
	agency, err := env.sim.SeedDemo()
	if err != nil {
		return nil, err
	}
	placements := []int{agency.Placements[0]}
	begin := time.Now().AddDate(0, 0, 14).UTC().Truncate(24 * time.Hour)
	for i := 1; i <= opts.Placements; i++ {
		id, err := env.sim.Create("Placement", map[string]any{
			"candidate": map[string]any{"id": agency.Candidates[i%len(agency.Candidates)]}, "jobOrder": map[string]any{"id": agency.JobOrders[i%len(agency.JobOrders)]},
			"status": "Placed", "employmentType": "Contract", "dateBegin": begin.UnixMilli()})
		if err != nil {
			return nil, fmt.Errorf("seed placement: %w", err)
		}
		placements = append(placements, id)
	}
	placements, env.spare = placements[:opts.Placements], placements[opts.Placements]
	env.reads = &pollRecorder{read: map[int]time.Time{}}
	if env.simURL, env.simSrv, err = serveLoopback(env.reads.wrap(env.sim)); err != nil {
		return nil, fmt.Errorf("bullhorn simulator: %w", err)
	}

	if env.sink, err = onboarding.StartSink("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}

	// The hub, on a temporary database; with no admin key configured it
	// generates one.
	cfg := hub.DefaultConfig()
	if opts.Addr != "" {
		cfg.Addr = opts.Addr
	} else if ln, err := net.Listen("tcp", cfg.Addr); err == nil {
		ln.Close() // serve's default address is free: the README's commands work as written
	} else {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.DB = "sqlite:" + filepath.Join(env.tmp, "hirehook.db")
	cfg.AllowPrivateDestinations = true
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.LogLevel = "warn"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env.hub = hub.New(cfg, opts.Logger.With(logkey.Component, "hub"))
	if err := env.hub.Open(ctx); err != nil {
		return nil, err
	}
	env.key = env.hub.GeneratedKey
	if env.hh, err = client.New(env.hub.URL(), env.key, client.WithUserAgent("hirehook-demo/"+hirehook.Version)); err != nil {
		return nil, err
	}

	// The onboarding receiver: its listener first, so the endpoint can
	// name it; the service needs the endpoint's secret.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	env.rcvURL = "http://" + ln.Addr().String()
	client1, client2 := "bh_"+strconv.Itoa(agency.Clients[0]), "bh_"+strconv.Itoa(agency.Clients[1])
	ep, err := env.hh.CreateEndpoint(ctx, client.EndpointCreateParams{
		URL:         env.rcvURL + "/webhooks/hirehook",
		EventTypes:  []string{"placement.confirmed"},
		Description: "onboarding (hirehook demo)",
		Transform:   demoTransform,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("create the onboarding endpoint: %w", err)
	}
	env.endpoint = ep.ID
	env.svc, err = onboarding.Open(ctx, onboarding.Config{
		DBPath:   filepath.Join(env.tmp, "onboarding.db"),
		Secrets:  []string{ep.Secret},
		SMTPAddr: env.sink.Addr(),
		MailFrom: "onboarding@agency.example",
		HubURL:   env.hub.URL(),
		HubKey:   env.key,
		Packets: map[string][]string{
			client1: {"Right-to-work check", "Acme code of conduct", "IR35 status determination"},
			client2: {"Form I-9", "Form W-4", "Forklift safety induction"},
		},
		DefaultPacket: []string{"Right-to-work check", "Bank details form"},
		RetryAfter:    time.Second,
		Logger:        opts.Logger.With(logkey.Component, "onboarding"),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	env.rcvSrv = &http.Server{Handler: env.svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go env.rcvSrv.Serve(ln)
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	env.runStop, env.runDone = stop, make(chan struct{})
	go func() {
		defer close(env.runDone)
		env.svc.Run(runCtx)
	}()

	// The Bullhorn source. Bullhorn queues events only on subscriptions
	// that exist, so approvals wait for its first poll.
	simCfg := env.sim.Config()
	srcCfg, _ := json.Marshal(map[string]any{
		"client_id": simCfg.ClientID, "client_secret": simCfg.ClientSecret, "username": simCfg.Username, "password": simCfg.Password,
		"auth_url": env.simURL, "login_url": env.simURL, "poll_interval_ms": opts.PollInterval.Milliseconds(),
	})
	if _, err := env.hh.CreateSource(ctx, client.SourceCreateParams{Kind: hirehook.SourceBullhorn, Name: "Acme Bullhorn (simulated)", Config: srcCfg}); err != nil {
		return nil, fmt.Errorf("create the Bullhorn source: %w", err)
	}
	if err := waitUntil(ctx, 10*time.Second, "the Bullhorn source's first poll", func() (bool, error) { return env.sim.Stats().Polls > 0, nil }); err != nil {
		return nil, err
	}
	return placements, nil
}

// demoTransform turns a placement.confirmed into the onboarding receiver's
// own shape.
const demoTransform = `{placement_id: .data.id,
 employee: {given_name: .data.candidate.first_name, family_name: .data.candidate.last_name, email: .data.candidate.email},
 start_date: .data.start_date, client_code: .data.client.id, client_name: .data.client.name, job_title: .data.job.title}`

// approve approves the placements, waits for every welcome email and reads
// back when each step happened.
func (env *demoEnv) approve(ctx context.Context, opts demoOptions, placements []int) (*demoResult, error) {
	approved := make(map[int]time.Time, len(placements))
	for i, id := range placements {
		if i > 0 && opts.Spacing > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(opts.Spacing):
			}
		}
		approved[id] = time.Now()
		if err := env.sim.Update("Placement", id, map[string]any{"status": "Approved"}); err != nil {
			return nil, fmt.Errorf("approve placement %d: %w", id, err)
		}
	}
	n := len(placements)
	err := waitUntil(ctx, opts.Timeout, fmt.Sprintf("%d welcome emails and delivered deliveries", n), func() (bool, error) {
		if len(env.sink.Mails()) < n {
			return false, nil
		}
		nhs, err := env.svc.NewHires(ctx)
		if err != nil {
			return false, err
		}
		if len(nhs) < n || slices.ContainsFunc(nhs, func(nh onboarding.NewHire) bool { return nh.WelcomeSentAt == nil }) {
			return false, nil
		}
		page, err := env.hh.ListDeliveries(ctx, client.DeliveryListParams{EndpointID: env.endpoint, State: hirehook.DeliveryDelivered, ListParams: client.ListParams{Limit: 1000}})
		if err != nil {
			return false, err
		}
		return len(page.Data) >= n, nil
	})
	if err != nil {
		return nil, err
	}
	return env.collect(ctx, placements, approved)
}

// collect reads every step's time where it is recorded.
func (env *demoEnv) collect(ctx context.Context, placements []int, approved map[int]time.Time) (*demoResult, error) {
	res := &demoResult{}
	byID := map[string]*demoTrace{}
	res.Traces = make([]demoTrace, len(placements))
	for i, id := range placements {
		t := &res.Traces[i]
		t.BullhornID, t.Placement, t.Approved = id, "bh_"+strconv.Itoa(id), approved[id]
		t.Read = env.reads.at(id)
		byID[t.Placement] = t
	}
	eventPlacement := map[string]*demoTrace{}
	for ev, err := range env.hh.AllEvents(ctx, client.EventListParams{Type: "placement.confirmed"}) {
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		res.Events++
		if t := byID[ev.Subject.ID]; t != nil {
			t.EventID, t.Ingested = ev.ID, ev.ReceivedAt
			eventPlacement[ev.ID] = t
		}
	}
	for d, err := range env.hh.AllDeliveries(ctx, client.DeliveryListParams{EndpointID: env.endpoint}) {
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		res.Deliveries++
		t := eventPlacement[d.EventID]
		if t == nil {
			continue
		}
		full, err := env.hh.GetDelivery(ctx, d.ID)
		if err != nil {
			return nil, fmt.Errorf("get delivery %s: %w", d.ID, err)
		}
		t.Attempts = len(full.AttemptList)
		for _, a := range full.AttemptList {
			if a.StatusCode >= 200 && a.StatusCode < 300 {
				t.AttemptAt, t.AttemptStatus, t.AttemptLatency = a.StartedAt, a.StatusCode, a.Duration
				break
			}
		}
	}
	nhs, err := env.svc.NewHires(ctx)
	if err != nil {
		return nil, err
	}
	res.NewHires = len(nhs)
	for _, nh := range nhs {
		res.PacketDocs += len(nh.Packet)
		if t := byID[nh.PlacementID]; t != nil {
			t.Created, t.Packet, t.Name = nh.CreatedAt, nh.Packet, nh.GivenName+" "+nh.FamilyName
			if nh.WelcomeSentAt != nil {
				t.WelcomeSent = *nh.WelcomeSentAt
			}
		}
	}
	mails := env.sink.Mails()
	res.Mails = len(mails)
	for _, m := range mails {
		// The receiver's Message-ID names the placement.
		if sm := welcomeID.FindSubmatch(m.Data); sm != nil {
			if t := byID[string(sm[1])]; t != nil && t.MailAt.IsZero() {
				t.MailAt, t.MailTo = m.At, strings.Join(m.To, ", ")
			}
		}
	}
	return res, nil
}

var welcomeID = regexp.MustCompile(`(?m)^Message-ID: <welcome\.([^@>]+)@`)

// check says what did not happen exactly once per placement.
func (r *demoResult) check(n int) error {
	var errs []error
	for what, got := range map[string]int{"placement.confirmed events": r.Events, "deliveries": r.Deliveries, "new hires": r.NewHires, "welcome emails": r.Mails} {
		if got != n {
			errs = append(errs, fmt.Errorf("%d %s for %d placements", got, what, n))
		}
	}
	for _, t := range r.Traces {
		switch {
		case t.Read.IsZero() || t.EventID == "" || t.AttemptAt.IsZero() || t.Created.IsZero() || t.MailAt.IsZero() || t.WelcomeSent.IsZero():
			errs = append(errs, fmt.Errorf("placement %s: a step is missing: %+v", t.Placement, t))
		case t.Attempts != 1:
			errs = append(errs, fmt.Errorf("placement %s: delivered in %d attempts", t.Placement, t.Attempts))
		case len(t.Packet) == 0:
			errs = append(errs, fmt.Errorf("placement %s: no packet queued", t.Placement))
		}
	}
	return errors.Join(errs...)
}

// printDemo prints the first placement's timeline and, for several, the
// percentiles of each step.
func printDemo(w io.Writer, r *demoResult, opts demoOptions) {
	t := r.Traces[0]
	since := func(at time.Time) string { return "+" + ms(at.Sub(t.Approved)) }
	line := func(at time.Time, what string) {
		fmt.Fprintf(w, "  %s  %10s  %s\n", at.Local().Format("15:04:05.000"), since(at), what)
	}
	fmt.Fprintf(w, "Placement %s (Bullhorn Placement %d, %s):\n", t.Placement, t.BullhornID, t.Name)
	line(t.Approved, "placement approved in Bullhorn (the simulator's status: Placed → Approved)")
	line(t.Read, "event read by the Bullhorn source (the simulator answered its poll with the event)")
	line(t.Ingested, fmt.Sprintf("placement.confirmed ingested by the hub (%s, received_at)", t.EventID))
	line(t.AttemptAt, fmt.Sprintf("delivered to the onboarding receiver (attempt %d sent; answered %d in %s)", t.Attempts, t.AttemptStatus, ms(t.AttemptLatency)))
	line(t.Created, "new-hire record created (the receiver's created_at)")
	line(t.Created, fmt.Sprintf("compliance packet queued, same transaction: %s", strings.Join(t.Packet, ", ")))
	line(t.MailAt, fmt.Sprintf("welcome email received by the SMTP sink (to %s)", t.MailTo))
	line(t.WelcomeSent, "welcome email marked sent by the receiver (after the relay's answer)")
	fmt.Fprintf(w, "  end to end, approved in Bullhorn → welcome email received: %s\n", ms(t.MailAt.Sub(t.Approved)))
	if len(r.Traces) == 1 {
		return
	}
	n := len(r.Traces)
	fmt.Fprintf(w, "\n%d placements, approved %v apart; time after each approval, p50 / p99 / max:\n", n, opts.Spacing)
	steps := []struct {
		name string
		at   func(demoTrace) time.Time
	}{
		{"event read by the source", func(t demoTrace) time.Time { return t.Read }},
		{"placement.confirmed ingested", func(t demoTrace) time.Time { return t.Ingested }},
		{"delivery attempt sent", func(t demoTrace) time.Time { return t.AttemptAt }},
		{"new-hire record + packet", func(t demoTrace) time.Time { return t.Created }},
		{"welcome email received", func(t demoTrace) time.Time { return t.MailAt }},
	}
	for _, s := range steps {
		lat := make([]time.Duration, n)
		for i, t := range r.Traces {
			lat[i] = s.at(t).Sub(t.Approved)
		}
		p50, p99, max := percentiles(lat)
		fmt.Fprintf(w, "  %-30s %10s %10s %10s\n", s.name, ms(p50), ms(p99), ms(max))
	}
	lat := make([]time.Duration, n)
	for i, t := range r.Traces {
		lat[i] = t.MailAt.Sub(t.Approved)
	}
	p50, p99, _ := percentiles(lat)
	fmt.Fprintf(w, "end to end (approved in Bullhorn → welcome email received by the SMTP sink) over %d placements: p50 %s, p99 %s\n",
		n, ms(p50), ms(p99))
	fmt.Fprintf(w, "each placement: 1 event, 1 delivery (1 attempt), 1 new hire, 1 welcome email, 1 packet (%d documents in all)\n", r.PacketDocs)
}

// ms formats d in milliseconds, to a tenth.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// percentiles returns the nearest-rank p50, p99 and max of lat.
func percentiles(lat []time.Duration) (p50, p99, max time.Duration) {
	s := slices.Clone(lat)
	slices.Sort(s)
	rank := func(p int) time.Duration { return s[max0((len(s)*p+99)/100-1)] }
	return rank(50), rank(99), s[len(s)-1]
}

func max0(i int) int { return max(i, 0) }

// close stops everything start started, in the reverse order of use: the
// hub (sources, then deliveries), the receiver, the sink, the simulator,
// then the temporary files. It may run after a partial start.
func (env *demoEnv) close(logger *slog.Logger) {
	ctx := context.Background()
	var errs []error
	if env.hub != nil && env.hub.Store != nil {
		errs = append(errs, env.hub.Close(ctx))
	}
	if env.rcvSrv != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		errs = append(errs, env.rcvSrv.Shutdown(sctx))
		cancel()
	}
	if env.runStop != nil {
		env.runStop()
		<-env.runDone
	}
	if env.svc != nil {
		errs = append(errs, env.svc.Close())
	}
	if env.sink != nil {
		errs = append(errs, env.sink.Close())
	}
	if env.simSrv != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		errs = append(errs, env.simSrv.Shutdown(sctx))
		cancel()
	}
	if env.tmp != "" {
		errs = append(errs, os.RemoveAll(env.tmp))
	}
	if err := errors.Join(errs...); err != nil {
		logger.Error("demo shutdown", logkey.Error, err)
	}
}

// serveLoopback serves h on a free loopback port.
func serveLoopback(h http.Handler) (string, *http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), srv, nil
}

// waitUntil polls cond every 10 ms until it holds, fails, or timeout or
// ctx ends.
func waitUntil(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for %s: still not there after %v", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// pollRecorder notes when the simulator first hands each placement's
// UPDATED event to a poll: the moment the source reads it.
type pollRecorder struct {
	mu   sync.Mutex
	read map[int]time.Time // by Bullhorn placement id
}

func (p *pollRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/event/subscription/") || strings.HasSuffix(r.URL.Path, "/lastRequestId") {
			h.ServeHTTP(w, r)
			return
		}
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		now := time.Now()
		var batch struct{ Events []bullhornsim.Event }
		if tw.buf.Len() == 0 || json.Unmarshal(tw.buf.Bytes(), &batch) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, ev := range batch.Events {
			if ev.EntityName == "Placement" && ev.EventType == "ENTITY" && ev.EntityEventType == "UPDATED" {
				if _, ok := p.read[ev.EntityID]; !ok {
					p.read[ev.EntityID] = now
				}
			}
		}
	})
}

func (p *pollRecorder) at(id int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.read[id]
}

// teeWriter keeps a copy of the body it writes.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}
