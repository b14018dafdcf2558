package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/flagerr"
)

// RunListen is `hirehook listen`: a receiver for development that prints
// each webhook and, given the endpoint's secret, verifies its signature.
// The secret may come from HIREHOOK_LISTEN_SECRET, to keep it out of the
// shell history and ps.
func RunListen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := NewFlags("listen", stdout)
	addr := fs.String("addr", "", "address to listen on (overrides --port)")
	port := fs.Int("port", 9000, "port to listen on, on 127.0.0.1")
	secret := fs.String("secret", "", "the endpoint's whsec_ secret: verify every webhook (else HIREHOOK_LISTEN_SECRET)")
	status := fs.Int("status", 200, "HTTP status to answer with (e.g. 500 to watch retries)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = strings.TrimSpace(getenv("HIREHOOK_LISTEN_SECRET"))
	}
	if *status < 200 || *status > 599 {
		return &flagerr.Error{Field: "status", Value: fmt.Sprint(*status), Err: errors.New("must be an HTTP status from 200 to 599")}
	}
	if *addr == "" {
		*addr = fmt.Sprintf("127.0.0.1:%d", *port)
	}
	if *secret != "" {
		if _, err := hirehook.NewSigner(*secret); err != nil {
			return &flagerr.Error{Field: "secret", Value: "****", Err: err}
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "hirehook listen: receiving webhooks at http://%s/ (answering %d)\n", ln.Addr(), *status)
	return serveUntilDone(ctx, ln, listenHandler(stdout, *secret, *status))
}

func listenHandler(out io.Writer, secret string, status int) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		var msg struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &msg)
		verdict := "signature not checked (pass --secret to verify)"
		if secret != "" {
			if err := hirehook.Verify(r.Header, body, time.Now(), secret); err != nil {
				verdict = "signature INVALID: " + err.Error()
			} else {
				verdict = "signature valid"
			}
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "  ", "  ") != nil {
			pretty.Reset()
			pretty.Write(body)
		}
		mu.Lock()
		fmt.Fprintf(out, "%s  %s %s  %s\n  webhook-id: %s  webhook-timestamp: %s\n  %s\n  %s\n\n",
			time.Now().Format("15:04:05.000"), r.Method, r.URL.Path, msg.Type,
			r.Header.Get(hirehook.HeaderWebhookID), r.Header.Get(hirehook.HeaderWebhookTimestamp),
			verdict, strings.TrimSpace(pretty.String()))
		mu.Unlock()
		w.WriteHeader(status)
	})
}

// serveUntilDone serves h on ln until ctx ends (listen and sim run until
// Ctrl-C), then gives requests in flight 5 seconds to finish.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
