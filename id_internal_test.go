package hirehook

import (
	"crypto/rand"
	"strings"
	"testing"
)

// encodeIDBitwise is how NewID encoded its bits before encodeID, a bit at a
// time: the reference encodeID must match.
func encodeIDBitwise(prefix string, b *[16]byte) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	sb.WriteByte('_')
	bit := func(k int) byte {
		if k < 0 {
			return 0
		}
		return b[k/8] >> (7 - k%8) & 1
	}
	for i := range 26 {
		var v byte
		for j := range 5 {
			v = v<<1 | bit(i*5+j-2)
		}
		sb.WriteByte(crockford[v])
	}
	return sb.String()
}

func TestEncodeIDIsBitwise(t *testing.T) {
	t.Parallel()
	inputs := []*[16]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x80}, {15: 1}, {7: 1}, {8: 0x80}}
	for range 2000 {
		var b [16]byte
		_, _ = rand.Read(b[:])
		inputs = append(inputs, &b)
	}
	for _, b := range inputs {
		if got, want := encodeID("evt", b), encodeIDBitwise("evt", b); got != want {
			t.Fatalf("encodeID(%x) = %s, want %s", b[:], got, want)
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewID("att")
	}
}
