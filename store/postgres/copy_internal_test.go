package postgres

import (
	"slices"
	"testing"

	"github.com/hirehook/hirehook/internal/storecopy"
)

// TestCopiedTables keeps the tables an import locks and checks for data
// the tables an export gives.
func TestCopiedTables(t *testing.T) {
	t.Parallel()
	if !slices.Equal(copiedTables, storecopy.Tables) {
		t.Fatalf("copiedTables = %v, want storecopy.Tables %v", copiedTables, storecopy.Tables)
	}
}
