// Command hirehook runs the hirehook event hub and its tools.
//
//	hirehook serve     start the hub (SQLite in ./hirehook.db, API on 127.0.0.1:8080)
//	hirehook demo      the whole flow in one process: Bullhorn → hub → onboarding, timed
//	hirehook listen    a local webhook receiver that prints and verifies what arrives
//	hirehook bench     measure ingest and delivery throughput and latency
//	hirehook sim bullhorn  a simulated Bullhorn to connect a source to
//	hirehook config    print the effective configuration, secrets masked
//	hirehook rotate-encryption-key  re-encrypt endpoint secrets with a new key
//	hirehook migrate-store          copy a whole database into a new one (SQLite ↔ PostgreSQL)
//	hirehook events send            send an event to a running hub
//	hirehook endpoints list|create|update|disable|enable|delete  the endpoints of a running hub
//	hirehook deliveries list|retry  show or resend deliveries of a running hub
//	hirehook sources list|requests|reprocess  sources, a push source's request log, reprocessing
//	hirehook version   print the version
//
// The commands and their one-line summaries are in internal/cli/help.go (commands);
// each command's --help prints its sentence, usage, flags and variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/bench"
	"github.com/hirehook/hirehook/internal/cli"
	"github.com/hirehook/hirehook/internal/demo"
	"github.com/hirehook/hirehook/internal/hub"
)

func main() {
	setRuntimeDefaults()
	os.Exit(run(signalContext(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// setRuntimeDefaults sets the collector's target and memory limit that the
// environment (GOGC, GOMEMLIMIT) does not.
func setRuntimeDefaults() {
	if os.Getenv("GOGC") == "" {
		// The hub's live heap is small (tens of MB) but every event makes
		// short-lived garbage (JSON decoding, schema validation, HTTP), so
		// at the default of 100 the collector runs hundreds of times a
		// second under load and its pauses show in delivery latency.
		// Measured with hirehook bench: about 20% more events/s at 400.
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// GOGC 400 lets the heap grow to five times the live data; this
		// soft limit makes the collector work harder instead once the heap
		// nears it, so a long backlog does not take the RSS past what a
		// small machine has. (Measured with bench --mode backlog: a
		// million pending deliveries peaked at 310 MB without it.)
		debug.SetMemoryLimit(200 << 20)
	}
}

// signalContext returns a context that SIGINT or SIGTERM cancels; after
// the first signal a second one ends the process at once.
func signalContext() context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal now ends the process at once
	}()
	return ctx
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		cli.WriteUsage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		err = demo.Run(ctx, args[1:], stdout, stderr)
	case "listen":
		err = cli.RunListen(ctx, args[1:], getenv, stdout, stderr)
	case "sim":
		err = cli.RunSim(ctx, args[1:], stdout, stderr)
	case "bench":
		err = bench.Run(ctx, args[1:], stdout, stderr)
	case bench.RelayCommand:
		// Not in the help: the bare relay that `hirehook bench` starts as a
		// child process, to read its CPU time as it reads the hub's.
		err = bench.RunRelay(ctx, args[1:], stderr)
	case "rotate-encryption-key":
		err = runRotate(ctx, args[1:], getenv, stdout, stderr)
	case "migrate-store":
		err = runMigrateStore(ctx, args[1:], getenv, stdout, stderr)
	case "events":
		err = cli.RunEvents(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "endpoints":
		err = cli.RunEndpoints(ctx, args[1:], getenv, stdout, stderr)
	case "deliveries":
		err = cli.RunDeliveries(ctx, args[1:], getenv, stdout, stderr)
	case "sources":
		err = cli.RunSources(ctx, args[1:], getenv, stdout, stderr)
	case "config":
		cfg := hub.DefaultConfig()
		if err = loadConfig(&cfg, "hirehook config", args[1:], getenv, stdout); err == nil {
			printConfig(&cfg, stdout)
		}
	case "version", "--version", "-v":
		if err = cli.ParseFlags(cli.NewFlags("version", stdout), args[1:]); err == nil {
			fmt.Fprintln(stdout, "hirehook", hirehook.Version)
		}
	case "help", "-h", "-help", "--help":
		cli.WriteUsage(stdout)
	default:
		fmt.Fprintf(stderr, "hirehook: unknown command %q\n\n", args[0])
		cli.WriteUsage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hirehook:", err)
		return 1
	}
	return 0
}

func newLogger(cfg hub.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := hub.DefaultConfig()
	if err := loadConfig(&cfg, "hirehook serve", args, getenv, stdout); err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	slog.SetDefault(logger)
	if path := getenv(bench.CPUProfileEnv); path != "" {
		// Undocumented in --help: `hirehook bench` sets it on the hub it
		// starts as a child process, whose CPU its --cpuprofile profiles.
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile %s: %w", path, err)
		}
		defer pprof.StopCPUProfile()
	}
	h := hub.New(cfg, logger)
	if err := h.Open(ctx); err != nil {
		return err
	}
	if h.GeneratedKey != "" {
		fmt.Fprintf(stdout, "\nNo API key was configured, so hirehook generated one. It is shown only this once;\n"+
			"only its hash is stored. Keep it somewhere safe. To use it, in another terminal:\n\n"+
			"    export HIREHOOK_URL=%s\n"+
			"    export HIREHOOK_API_KEY=%s\n\n"+
			"    curl -H \"Authorization: Bearer $HIREHOOK_API_KEY\" \"$HIREHOOK_URL/v1/event-types\"\n\n", h.URL(), h.GeneratedKey)
	}
	<-ctx.Done()
	logger.Info("shutting down (a second signal stops at once)")
	return h.Close(context.Background())
}
