package testproxy_test

import (
	"bufio"
	"net"
	"testing"

	"github.com/hirehook/hirehook/internal/testproxy"
)

func TestStopAndStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("echo " + line))
			}()
		}
	}()
	p := testproxy.New(t, ln.Addr().String())
	echo := func() (string, error) {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		if _, err := c.Write([]byte("hi\n")); err != nil {
			return "", err
		}
		return bufio.NewReader(c).ReadString('\n')
	}
	if got, err := echo(); err != nil || got != "echo hi\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}
	p.Stop()
	if got, err := echo(); err == nil {
		t.Fatalf("after Stop: got %q, want a refused connection", got)
	}
	p.Start(t)
	if got, err := echo(); err != nil || got != "echo hi\n" {
		t.Fatalf("after Start: %q, %v", got, err)
	}
}
