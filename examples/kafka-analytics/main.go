// Command kafka-analytics is the loader of an analytics pipeline fed from
// Kafka: it consumes the records a hirehook endpoint of kind kafka
// produces, verifies each with the endpoint's secret
// (receiver.VerifyMessage), drops repeats by webhook-id (the event id) and
// writes each event once, as one JSON line, where a warehouse loader
// would upsert it. Offsets are committed after the records are written, so
// a crash writes them again rather than losing them. See README.md and
// docs/destinations.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/hirehook/hirehook/client/receiver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "kafka-analytics:", err)
		os.Exit(1)
	}
}

// run consumes until ctx ends: events as JSON lines on out, what it skips
// and why on log.
func run(ctx context.Context, args []string, getenv func(string) string, out, log io.Writer) error {
	fs := flag.NewFlagSet("kafka-analytics", flag.ContinueOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "seed brokers, comma-separated host:port")
	topic := fs.String("topic", "hirehook.recruiting", "the topic the hub's endpoint produces to")
	group := fs.String("group", "analytics-loader", "the consumer group")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The secret comes from the environment, never a flag: a flag's value
	// shows in ps and in the shell's history.
	secret := getenv("HIREHOOK_SECRET")
	if secret == "" {
		return errors.New("set HIREHOOK_SECRET to the endpoint's whsec_ secret")
	}
	v := receiver.Verifier{Secrets: []string{secret}}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	fmt.Fprintf(log, "consuming %s as %s\n", *topic, *group)

	// A real loader upserts by event id in the warehouse; a set in memory
	// stands in for it here.
	seen := map[string]bool{}
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err := fetches.Err0(); err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		fetches.EachError(func(t string, p int32, err error) {
			fmt.Fprintf(log, "fetch %s/%d: %v\n", t, p, err)
		})
		fetches.EachRecord(func(rec *kgo.Record) {
			headers := receiver.HeadersFromPairs(rec.Headers)
			if err := v.VerifyMessage(headers, rec.Value); err != nil {
				fmt.Fprintf(log, "skip %s/%d@%d: %v\n", rec.Topic, rec.Partition, rec.Offset, err)
				return
			}
			id := headers["webhook-id"]
			if seen[id] {
				fmt.Fprintf(log, "duplicate %s\n", id)
				return
			}
			seen[id] = true
			fmt.Fprintf(out, "%s\n", rec.Value)
		})
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
}
