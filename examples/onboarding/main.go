// Command onboarding is the reference onboarding receiver: point a hirehook
// endpoint subscribed to placement.confirmed at its /webhooks/hirehook, and
// each confirmed placement becomes a new hire with a welcome email and the
// client's compliance packet. See README.md beside this file.
//
//	go run ./examples/onboarding --secret whsec_… --smtp-addr 127.0.0.1:2525
//
// Every flag can also be set with an ONBOARDING_* environment variable
// (--smtp-addr is ONBOARDING_SMTP_ADDR); flags win.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hirehook/hirehook/examples/onboarding/onboarding"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "onboarding:", err)
		os.Exit(1)
	}
}

// run is the service until ctx ends; it logs to logOut.
func run(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer) error {
	fs := flag.NewFlagSet("onboarding", flag.ContinueOnError)
	fs.SetOutput(logOut)
	addr := fs.String("addr", "127.0.0.1:9100", "address to listen on")
	db := fs.String("db", "onboarding.db", "the service's SQLite file")
	secrets := fs.String("secret", "", "the hirehook endpoint's signing secret (whsec_…) or public key (whpk_…); comma-separated during a rotation")
	smtpAddr := fs.String("smtp-addr", "127.0.0.1:2525", "SMTP relay, host:port")
	from := fs.String("mail-from", "onboarding@agency.example", "sender of the welcome emails")
	hubURL := fs.String("hub-url", "", "hirehook's URL, to fetch placements of thin events (e.g. http://127.0.0.1:8080)")
	hubKey := fs.String("hub-key", "", "a hirehook API key (viewer scope is enough) for --hub-url")
	packets := fs.String("packets", "", `JSON file of compliance packets: {"clients": {"<client id>": ["doc", …]}, "default": ["doc", …]}`)
	sink := fs.Bool("smtp-sink", false, "also run a local SMTP sink on --smtp-addr that keeps mails in memory and logs them (development)")
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv("ONBOARDING_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))); v != "" {
			f.Value.Set(v)
		}
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	cfg := onboarding.Config{
		DBPath: *db, SMTPAddr: *smtpAddr, MailFrom: *from, HubURL: *hubURL, HubKey: *hubKey, Logger: logger,
		DefaultPacket: []string{"Right-to-work check", "Tax form", "Signed contract"},
	}
	for s := range strings.SplitSeq(*secrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Secrets = append(cfg.Secrets, s)
		}
	}
	if len(cfg.Secrets) == 0 {
		return errors.New("--secret is required: the signing secret hirehook showed when the endpoint was created")
	}
	if *packets != "" {
		b, err := os.ReadFile(*packets)
		if err != nil {
			return err
		}
		var p struct {
			Clients map[string][]string `json:"clients"`
			Default []string            `json:"default"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("--packets %s: %w", *packets, err)
		}
		cfg.Packets = p.Clients
		if p.Default != nil {
			cfg.DefaultPacket = p.Default
		}
	}

	if *sink {
		s, err := onboarding.StartSink(*smtpAddr)
		if err != nil {
			return fmt.Errorf("SMTP sink: %w", err)
		}
		defer s.Close()
		go func() {
			// One signal may stand for several mails: log each one once.
			logged := 0
			for range s.Received() {
				mails := s.Mails()
				for _, m := range mails[logged:] {
					logger.Info("SMTP sink got a mail", "to", strings.Join(m.To, ","), "subject", m.Subject(),
						"first_lines", strings.Join(m.FirstLines(3), " / "), "bytes", len(m.Data))
				}
				logged = len(mails)
			}
		}()
		logger.Info("SMTP sink listening", "addr", s.Addr())
	}
	svc, err := onboarding.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.Close()
	go svc.Run(ctx)
	srv := &http.Server{Addr: *addr, Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("onboarding receiver listening", "webhooks", "http://"+*addr+"/webhooks/hirehook", "new_hires", "http://"+*addr+"/new-hires")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
