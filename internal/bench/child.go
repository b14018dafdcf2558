package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hirehook/hirehook/internal/hub"
)

// RelayCommand is the hirehook command, left out of the help, that runs the
// bench's bare relay in a process of its own (RunRelay).
const RelayCommand = "bench-relay"

// CPUProfileEnv names the file to which `hirehook serve` writes a CPU
// profile of its whole run. The bench sets it on the hub it starts as a
// child process when given --cpuprofile; it is no flag of serve's, so that
// `hirehook config` and serve's --help stay about running a hub.
const CPUProfileEnv = "HIREHOOK_CPUPROFILE"

// child is a process the bench started, a hub (`serve`) or the bare relay,
// that serves HTTP on loopback.
type child struct {
	what string
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed once the process has exited
	err  error         // how it exited, once done is closed
	log  *tailWriter
	once sync.Once
}

// startChild starts the process that build makes for a loopback address
// and waits until it answers GET readyPath with 200. The address is one
// that was free a moment before; if the child finds it taken (another
// process bound it in between) it is started again on another, up to three
// times. Its output goes to stderr, never to the bench's report.
func startChild(ctx context.Context, what, readyPath string, stderr io.Writer, build func(addr string) *exec.Cmd) (*child, error) {
	var err error
	for range 3 {
		var c *child
		if c, err = startChildOnce(ctx, what, readyPath, stderr, build); err == nil {
			return c, nil
		}
		if c == nil || !strings.Contains(c.log.String(), "address already in use") || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func startChildOnce(ctx context.Context, what, readyPath string, stderr io.Writer, build func(addr string) *exec.Cmd) (*child, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port for the %s: %w", what, err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := &child{what: what, cmd: build(addr), url: "http://" + addr, done: make(chan struct{}), log: &tailWriter{w: stderr}}
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	c.cmd.SysProcAttr = childSysProcAttr()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s (%s): %w", what, c.cmd.Path, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	// Two minutes: a race-instrumented test binary on a loaded machine
	// takes seconds to open its database.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url+readyPath, nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case <-c.done:
			return c, fmt.Errorf("the %s exited before it answered %s: %v (its output is above)", what, readyPath, c.err)
		case <-ctx.Done():
			c.stop()
			return c, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop()
			return c, fmt.Errorf("the %s did not answer %s%s within 2 minutes", what, c.url, readyPath)
		}
	}
}

// stop ends the child as an operator would (SIGTERM: the hub shuts down
// in order and writes its CPU profile) and waits for it, killing it if it
// is still there after a minute. It may be called twice.
func (c *child) stop() error {
	c.once.Do(func() {
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			_ = c.cmd.Process.Kill() // no SIGTERM on this OS
		}
		select {
		case <-c.done:
		case <-time.After(time.Minute):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	if c.err != nil {
		return fmt.Errorf("the %s (pid %d): %w", c.what, c.cmd.Process.Pid, c.err)
	}
	return nil
}

// cpu returns the CPU time the child has used so far.
func (c *child) cpu() (cpuTime, error) { return processCPU(c.cmd.Process.Pid) }

// cpuTime is a process's CPU time: Total from the kernel's CPU clock of the
// process, to the nanosecond; User and System from /proc/<pid>/stat, in
// clock ticks of 10 ms, to show the split.
type cpuTime struct {
	Total, User, System time.Duration
}

func (a cpuTime) sub(b cpuTime) cpuTime {
	return cpuTime{Total: a.Total - b.Total, User: a.User - b.User, System: a.System - b.System}
}

func (a cpuTime) add(b cpuTime) cpuTime {
	return cpuTime{Total: a.Total + b.Total, User: a.User + b.User, System: a.System + b.System}
}

// perUnit returns the CPU time per unit of n, in µs, split as Total, User
// and System.
func (a cpuTime) perUnit(n int64) (total, user, system float64) {
	if n <= 0 {
		return 0, 0, 0
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(n) }
	return us(a.Total), us(a.User), us(a.System)
}

// hubChildCommand returns the command that runs `serve` from exe with cfg,
// all of it through HIREHOOK_* variables rather than flags, so that no
// secret (the bench's admin key, a PostgreSQL URL's password) shows in the
// process list; the bench's own HIREHOOK_* variables are left out, so the
// child runs on cfg alone, as the in-process hub does. Only the fields
// benchSetup sets are passed on. profile, if set, is the file of its CPU
// profile.
func hubChildCommand(exe string, cfg hub.Config, addr, profile string) *exec.Cmd {
	env := childEnv()
	set := func(flag, v string) { env = append(env, "HIREHOOK_"+hub.EnvName(flag)+"="+v) }
	set("addr", addr)
	set("db", cfg.DB)
	set("admin-key", cfg.AdminKey)
	if cfg.EncryptionKey != "" {
		set("encryption-key", cfg.EncryptionKey)
	}
	set("allow-private-destinations", fmt.Sprint(cfg.AllowPrivateDestinations))
	set("endpoint-concurrency", fmt.Sprint(cfg.EndpointConcurrency))
	set("api-rate-limit", fmt.Sprint(cfg.APIRateLimit))
	set("log-level", cfg.LogLevel)
	if profile != "" {
		env = append(env, CPUProfileEnv+"="+profile)
	}
	cmd := exec.Command(exe, "serve")
	cmd.Env = env
	return cmd
}

// childEnv is this process's environment without its HIREHOOK_* variables.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HIREHOOK_") {
			env = append(env, kv)
		}
	}
	return env
}

// tailWriter passes writes on to w and keeps the last 4 KiB of them, in
// which startChild looks for a failed bind.
type tailWriter struct {
	mu   sync.Mutex
	w    io.Writer
	tail []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tail = append(t.tail, p...)
	if len(t.tail) > 4096 {
		t.tail = bytes.Clone(t.tail[len(t.tail)-4096:])
	}
	return t.w.Write(p)
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.tail)
}
