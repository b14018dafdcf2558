package postgres_test

import (
	"testing"

	"github.com/hirehook/hirehook/store/storetest"
)

func BenchmarkDeliveryStats(b *testing.B)    { storetest.BenchmarkDeliveryStats(b, newStore) }
func BenchmarkClaimComplete(b *testing.B)    { storetest.BenchmarkClaimComplete(b, newStore) }
func BenchmarkInbound(b *testing.B)          { storetest.BenchmarkInbound(b, newStore) }
func BenchmarkDeliveryComplete(b *testing.B) { storetest.BenchmarkDeliveryComplete(b, newStore) }

func BenchmarkIngestAt(b *testing.B)      { storetest.BenchmarkIngestAt(b, newStore, 0, 200000) }
func BenchmarkClaimSkipping(b *testing.B) { storetest.BenchmarkClaimSkipping(b, newStore, 0, 200000) }
