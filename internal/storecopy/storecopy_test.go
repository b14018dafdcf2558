package storecopy

import "testing"

func TestCopyCountsEveryTable(t *testing.T) {
	t.Parallel()
	b := Batch{
		Tenants: make([]Tenant, 1), APIKeys: make([]APIKey, 1), Endpoints: make([]Endpoint, 1), Events: make([]Event, 1),
		Records: make([]Record, 1), Deliveries: make([]Delivery, 1), Attempts: make([]Attempt, 1), Audit: make([]AuditEntry, 1),
		Sources: make([]Source, 1), States: make([]SourceState, 1), Backfills: make([]Backfill, 1), Inbound: make([]InboundRequest, 1),
	}
	if got, want := b.Len(), len(Tables); got != want {
		t.Fatalf("Len = %d, want one row of each of the %d tables", got, want)
	}
	c := Counts{}
	c.Add(b)
	c.Add(Batch{Inbound: make([]InboundRequest, 2)})
	for _, table := range Tables {
		want := 1
		if table == "inbound_requests" {
			want = 3
		}
		if c[table] != want {
			t.Errorf("count of %s = %d, want %d", table, c[table], want)
		}
	}
	if len(c) != len(Tables) {
		t.Errorf("counts %v name tables not in Tables", c)
	}
	if got, want := (Counts{"sources": 1, "inbound_requests": 3}).String(), "1 sources, 3 inbound_requests"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
