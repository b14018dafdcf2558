package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// An Exclusive store keeps a second Exclusive Open of its file out, with
// an error naming the file, until it is closed; Open without the option
// (tests, tools that only read) is not held back.
func TestExclusiveLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	first, err := OpenWithOptions(ctx, path, Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	_, err = OpenWithOptions(ctx, path, Options{Exclusive: true})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Exclusive Open: %v; want ErrInUse naming %s", err, path)
	}
	if err := first.Ping(ctx); err != nil {
		t.Fatalf("the first store after the refused Open: %v", err)
	}
	plain, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open without Exclusive: %v", err)
	}
	plain.Close()

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenWithOptions(ctx, path, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("Exclusive Open after Close: %v", err)
	}
	again.Close()
}
