package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// proxy is a TCP proxy in front of the test server, that a test can take
// down (its port closed, its connections cut) and bring back on the same
// port: a database that becomes unreachable, then comes back.
type proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); io.Copy(u, c); u.Close() }()
			go func() { defer p.wg.Done(); io.Copy(c, u); c.Close() }()
		}
	}()
}

// down closes the port and cuts every connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// up listens on the same port again.
func (p *proxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// TestDatabaseUnreachableIsUnavailable takes the database away under a
// store (the port closed, the connections cut): a write, a read and Ping
// are EUNAVAILABLE, not internal errors, so the API answers 503 and the
// SDK retries; when the database is back, so is the store.
func TestDatabaseUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Skipf("the test database URL is not a postgres:// URL with a host: %v", err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := newProxy(t, target)
	u.Host = p.addr
	q := u.Query()
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	s := open(t, u.String(), postgres.Options{MaxConns: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_a", Name: "A", RetentionDays: 30}); err != nil {
		t.Fatal(err)
	}

	p.down()
	err = s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30})
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE {
		t.Fatalf("write with the database unreachable: code %q (%v), want unavailable", code, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write with the database unreachable waited for the context: %v", err)
	}
	_, err = s.TenantList(ctx, hirehook.TenantFilter{})
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE {
		t.Fatalf("read with the database unreachable: code %q (%v), want unavailable", code, err)
	}
	if err := s.Ping(ctx); hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE {
		t.Fatalf("Ping with the database unreachable = %v, want unavailable", err)
	}

	p.up(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping with the database back = %v", err)
	}
	if err := s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30}); err != nil {
		t.Fatalf("write with the database back: %v", err)
	}
}
