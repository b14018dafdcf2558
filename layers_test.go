package hirehook_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is the import path of this module; the layers below name
// packages relative to it ("." is the root package hirehook).
const module = "github.com/hirehook/hirehook"

// layer is one level of the design's flow (docs/architecture.md): its
// packages, named by pattern, may import the standard library, any
// module outside hirehook, and the packages of the layers in mayImport
// (a layer's own packages only when it lists itself).
type layer struct {
	name string
	// packages are patterns: "x" is the package x, "x/..." is x and every
	// package below it. A package belongs to the first layer (in layers'
	// order) with a pattern that matches it, so a specific pattern goes
	// in an earlier layer than a general one.
	packages  []string
	mayImport []string
}

// layers encode who may import whom, from the bottom up. A new package
// falls into the layer a pattern gives it; one that matches no pattern
// fails TestLayers until it is added here.
var layers = []layer{
	{name: "domain", packages: []string{"."}}, // the root package: the standard library only
	{name: "testsupport", // imported from _test.go files only (checked below)
		packages:  []string{"store/storetest", "store/postgres/postgrestest", "internal/testwait", "internal/testproxy", "internal/hubtest/..."},
		mayImport: []string{"domain", "base", "testsupport", "store", "services", "surfaces", "wiring", "connectors", "destinations"}},
	{name: "wiring", // the binary and the hub's assembly: the only importers of the concrete stores
		packages:  []string{"cmd/...", "internal/hub/...", "internal/cli/...", "internal/bench/...", "internal/demo/..."},
		mayImport: []string{"domain", "base", "store", "services", "surfaces", "connectors", "destinations", "wiring", "sdk", "examples"}},
	{name: "base", // leaves every layer may use: the catalog, sealing, routing rules, small helpers
		packages:  []string{"catalog/...", "seal/...", "route/...", "internal/..."},
		mayImport: []string{"domain", "base"}},
	{name: "store", // the store core and its dialects
		packages:  []string{"store/..."},
		mayImport: []string{"domain", "base", "store"}},
	{name: "connectors", // one package per ATS: verify, poll, map onto the catalog
		packages:  []string{"connector/..."},
		mayImport: []string{"domain", "base", "connectors"}},
	{name: "destinations", // the broker kinds an endpoint may deliver to: the contract and one package per kind
		packages:  []string{"destination/..."},
		mayImport: []string{"domain", "base", "destinations"}},
	{name: "services", // the runtime components and the operations layer, over hirehook.Store
		packages:  []string{"ingest/...", "delivery/...", "retention/...", "backfill/...", "metrics/...", "ops/..."},
		mayImport: []string{"domain", "base", "services", "destinations"}},
	{name: "surfaces", // the HTTP faces: JSON API, dashboard, push receiver, the server that mounts them
		packages:  []string{"api/...", "web/...", "inbound/...", "server/..."},
		mayImport: []string{"domain", "base", "services", "connectors", "surfaces"}},
	{name: "codegen", // the SDK's code generator: writes its entity types from the catalog's schemas, linked into no program
		packages:  []string{"client/internal/..."},
		mayImport: []string{"domain", "base", "codegen"}},
	{name: "sdk", // the public Go SDK: nothing of the server
		packages:  []string{"client/..."},
		mayImport: []string{"domain", "sdk"}},
	{name: "examples", // programs built on the SDK, as a user would write them
		packages:  []string{"examples/..."},
		mayImport: []string{"sdk", "examples"}},
}

// surfaceSameLayer names the surfaces that may import one another: the
// server mounts api and web, and inbound renders errors through api.
var surfaceSameLayer = map[string][]string{
	"server":  {"api", "web", "inbound"},
	"inbound": {"api"},
}

// layerOf returns the layer of pkg (relative to the module), or nil.
func layerOf(pkg string) *layer {
	for i := range layers {
		for _, p := range layers[i].packages {
			if matchPattern(p, pkg) {
				return &layers[i]
			}
		}
	}
	return nil
}

func matchPattern(pattern, pkg string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == dir || strings.HasPrefix(pkg, dir+"/")
	}
	return pkg == pattern
}

// relative returns an import path relative to the module ("." for the
// root) and whether it is in the module at all.
func relative(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// topDir is the first element of a relative path ("." for the root).
func topDir(rel string) string {
	first, _, _ := strings.Cut(rel, "/")
	return first
}

// checkImport returns why pkg may not import imp ("" when it may).
func checkImport(pkg, imp string) string {
	from, to := layerOf(pkg), layerOf(imp)
	if to == nil {
		return "" // reported as an unknown package of its own
	}
	if to.name == "testsupport" && from.name != "testsupport" {
		return "it is test support, to be imported from _test.go files only"
	}
	if !slices.Contains(from.mayImport, to.name) {
		return "layer " + from.name + " may import only " + strings.Join(append([]string{"the standard library"}, from.mayImport...), ", ")
	}
	if from.name == "surfaces" && to.name == "surfaces" && topDir(pkg) != topDir(imp) &&
		!slices.Contains(surfaceSameLayer[topDir(pkg)], topDir(imp)) {
		return "surfaces do not import one another (only server mounts them; see surfaceSameLayer)"
	}
	if from.name == "services" && to.name == "services" && topDir(pkg) != topDir(imp) {
		return "services do not import one another: they meet through interfaces the wiring fills"
	}
	return ""
}

// moduleImports returns, for each package of the module (relative to its
// root), the module's packages its non-test files import. It reads the
// files itself rather than asking go list, so that the test cache sees
// them: an import added anywhere reruns the test.
func moduleImports(tb testing.TB) map[string][]string {
	tb.Helper()
	pkgs := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		imports := pkgs[pkg]
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if rel, ok := relative(p); ok && !slices.Contains(imports, rel) {
				imports = append(imports, rel)
			}
		}
		pkgs[pkg] = imports
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return pkgs
}

// TestLayers holds every package of the module to its layer: the
// non-test imports of each go where layers allows, so the flow drawn in
// docs/architecture.md stays true.
func TestLayers(t *testing.T) {
	t.Parallel()
	pkgs := moduleImports(t)
	if len(pkgs) < 10 {
		t.Fatalf("found %d packages; expected the whole module", len(pkgs))
	}
	for _, pkg := range slices.Sorted(maps.Keys(pkgs)) {
		from := layerOf(pkg)
		if from == nil {
			t.Errorf("package %s is in no layer: add a pattern for it to one of the layers in layers_test.go", pkg)
			continue
		}
		for _, imp := range pkgs[pkg] {
			if why := checkImport(pkg, imp); why != "" {
				t.Errorf("%s (layer %s) imports %s (layer %s): %s", pkg, from.name, imp, layerOf(imp).name, why)
			}
		}
	}
}

// TestLayerRules checks the rules on imports made up for the purpose, so
// that each refusal the layers promise is seen to happen.
func TestLayerRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pkg, imp string
		ok       bool
	}{
		{".", "seal", false},
		{"catalog", "store/sqlite", false},
		{"seal", "catalog", true},
		{"store/sqlite", "store/sqlstore", true},
		{"store/postgres", "delivery", false},
		{"store/sqlite", "api", false},
		{"store/sqlstore", "ingest", false},
		{"connector/bullhorn", "store/sqlite", false},
		{"connector/lever", "connector/push", true},
		{"delivery", "store/sqlite", false},
		{"delivery", "route", true},
		{"delivery", "ingest", false},
		{"api", "store/postgres", false},
		{"web", "store/sqlite", false},
		{"web", "api", false},
		{"api", "ops", true},
		{"server", "api", true},
		{"client", "api", false},
		{"client/receiver", "client/entity", true},
		{"client", "catalog", false},
		{"client/internal/codegen", "catalog", true},
		{"examples/onboarding/onboarding", "client/receiver", true},
		{"examples/onboarding/onboarding", "store/sqlite", false},
		{"cmd/hirehook", "store/postgres", true},
		{"internal/hub", "store/sqlite", true},
		{"internal/demo", "examples/onboarding/onboarding", true},
		{"cmd/hirehook", "store/storetest", false},
		{"api", "internal/testwait", false},
		{"internal/hubtest", "store/sqlite", true},
	} {
		if layerOf(tc.pkg) == nil || layerOf(tc.imp) == nil {
			t.Errorf("%s or %s is in no layer", tc.pkg, tc.imp)
			continue
		}
		why := checkImport(tc.pkg, tc.imp)
		if got := why == ""; got != tc.ok {
			t.Errorf("%s importing %s: allowed = %v (%q), want %v", tc.pkg, tc.imp, got, why, tc.ok)
		}
	}
	if l := layerOf("nosuchdir/x"); l != nil {
		t.Errorf("an unknown package fell into layer %s", l.name)
	}
}
