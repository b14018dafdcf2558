package hubtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/internal/hubtest"
)

// producerKey creates a tenant and a producer key of it, and returns the key.
func producerKey(tb testing.TB, h *hubtest.Hub, tenantID string) string {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := h.Store.TenantCreate(ctx, &hirehook.Tenant{ID: tenantID, Name: tenantID, RetentionDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
		tb.Fatalf("create tenant %s: %v", tenantID, err)
	}
	key := "hh_test_" + strings.ReplaceAll(hirehook.NewID("k"), "_", "")
	if err := h.Store.APIKeyCreate(ctx, &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: tenantID, Name: "producer",
		Scope: hirehook.ScopeProducer, Hash: api.HashKey(key), CreatedAt: now}); err != nil {
		tb.Fatalf("create key of %s: %v", tenantID, err)
	}
	return key
}

func post(client *http.Client, url, key, body string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/v1/events", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// TestPoisonDoesNotFailAnotherTenant posts, as tenant A, events whose data
// is valid JSON that the store cannot take (nested 1,000 levels deep), in a
// loop, while tenant B posts valid events concurrently: every one of B's
// events is answered 202 and stored, whatever A sends.
func TestPoisonDoesNotFailAnotherTenant(t *testing.T) {
	t.Parallel()
	h := hubtest.Start(t)
	keyA := producerKey(t, h, "tenant_a")
	keyB := producerKey(t, h, "tenant_b")
	client := &http.Client{Timeout: 30 * time.Second}

	var deep bytes.Buffer
	deep.WriteString(`{"type":"candidate.created","data":{"id":"cand_poison","first_name":"A","last_name":"B","x":`)
	deep.WriteString(strings.Repeat("[", 1000))
	deep.WriteString(strings.Repeat("]", 1000))
	deep.WriteString(`}}`)
	poison := deep.String()

	stop := make(chan struct{})
	var poisonAnswers sync.Map // status → count
	var wgA sync.WaitGroup
	for range 4 {
		wgA.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, _, err := post(client, h.URL, keyA, poison)
				if err != nil {
					t.Errorf("tenant A: %v", err)
					return
				}
				n, _ := poisonAnswers.LoadOrStore(status, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		})
	}

	const rounds, perRound = 3, 60
	var ids []string
	for r := range rounds {
		var wg sync.WaitGroup
		for i := range perRound {
			id := fmt.Sprintf("evt_b_%d_%d", r, i)
			ids = append(ids, id)
			wg.Go(func() {
				body := fmt.Sprintf(`{"id":%q,"type":"candidate.created","data":{"id":"cand_%d","first_name":"B","last_name":"B"}}`, id, i)
				status, answer, err := post(client, h.URL, keyB, body)
				if err != nil {
					t.Errorf("tenant B event %s: %v", id, err)
				} else if status != http.StatusAccepted {
					t.Errorf("tenant B event %s: status %d, want 202; body: %s", id, status, answer)
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	wgA.Wait()

	for _, id := range ids {
		if _, err := h.Store.EventGet(context.Background(), "tenant_b", id); err != nil {
			t.Errorf("tenant B event %s not stored: %v", id, err)
		}
	}
	poisonAnswers.Range(func(status, n any) bool {
		t.Logf("tenant A's poison answered %d: %d times", status, n.(*atomic.Int64).Load())
		if s := status.(int); s == http.StatusAccepted {
			t.Errorf("tenant A's poison was accepted")
		}
		return true
	})
}
