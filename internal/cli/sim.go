package cli

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/hirehook/hirehook/connector/bullhorn/bullhornsim"
)

// RunSim is `hirehook sim <vendor>`: a simulator of a vendor's API, for
// trying sources without the vendor.
func RunSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "bullhorn" {
		return subcommandError("sim", args, stdout, stderr)
	}
	fs := NewFlags("sim bullhorn", stdout)
	addr := fs.String("addr", "127.0.0.1:8090", "address to serve the simulator on")
	seed := fs.Bool("seed-demo", false, "start with a small agency: clients, contacts, jobs, candidates, submissions and a placement to approve")
	var cfg bullhornsim.Config
	fs.StringVar(&cfg.ClientID, "client-id", "hirehook", "OAuth client id the simulator accepts")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "secret", "OAuth client secret the simulator accepts")
	fs.StringVar(&cfg.Username, "username", "api.user", "API user the simulator accepts")
	fs.StringVar(&cfg.Password, "password", "password", "password of the API user")
	if err := ParseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	sim := bullhornsim.New(cfg)
	var demo bullhornsim.Demo
	if *seed {
		var err error
		if demo, err = sim.SeedDemo(); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "hirehook sim bullhorn: a simulated Bullhorn at %s\n", base)
	fmt.Fprintf(stdout, "  credentials: client_id %q, client_secret %q, username %q, password %q\n", cfg.ClientID, cfg.ClientSecret, cfg.Username, cfg.Password)
	fmt.Fprintf(stdout, "  source config: {\"client_id\":%q,\"client_secret\":%q,\"username\":%q,\"password\":%q,\"auth_url\":%q,\"login_url\":%q}\n",
		cfg.ClientID, cfg.ClientSecret, cfg.Username, cfg.Password, base, base)
	fmt.Fprintf(stdout, "  admin API: POST %[1]s/admin/entity/{Entity}, PATCH|DELETE %[1]s/admin/entity/{Entity}/{id}, GET %[1]s/admin/stats\n", base)
	if *seed {
		fmt.Fprintf(stdout, "  demo agency: clients %v, job orders %v, candidates %v, submissions %v, placement %v (status Placed)\n",
			demo.Clients, demo.JobOrders, demo.Candidates, demo.Submissions, demo.Placements)
		fmt.Fprintf(stdout, "  approve the placement: curl -X PATCH %s/admin/entity/Placement/%d -d '{\"status\":\"Approved\"}'\n", base, demo.Placements[0])
	}
	return serveUntilDone(ctx, ln, sim)
}
