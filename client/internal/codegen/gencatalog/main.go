// Command gencatalog writes the SDK's typed catalog code from the hub's
// catalog. go generate in client/entity runs it:
//
//	go run ../internal/codegen/gencatalog -entity entities_gen.go -receiver ../receiver/entities_gen.go
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/client/internal/codegen"
)

func main() {
	entityOut := flag.String("entity", "", "where to write client/entity's generated file")
	receiverOut := flag.String("receiver", "", "where to write client/receiver's generated file")
	flag.Parse()
	if err := run(*entityOut, *receiverOut); err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
}

func run(entityOut, receiverOut string) error {
	cat := catalog.Default()
	for _, out := range []struct {
		path string
		gen  func(*catalog.Catalog) ([]byte, error)
	}{{entityOut, codegen.Entities}, {receiverOut, codegen.Accessors}} {
		if out.path == "" {
			continue
		}
		src, err := out.gen(cat)
		if err != nil {
			return err
		}
		if err := os.WriteFile(out.path, src, 0o644); err != nil {
			return err
		}
	}
	return nil
}
