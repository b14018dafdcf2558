package hirehook

import (
	"math/rand/v2"
	"testing"
)

// TestEncodeIDBitByBit: encodeID writes what the bit-by-bit encoding it
// replaced wrote (ids already stored keep their order with new ones).
func TestEncodeIDBitByBit(t *testing.T) {
	t.Parallel()
	bitByBit := func(b [16]byte) [26]byte {
		bit := func(k int) byte {
			if k < 0 {
				return 0
			}
			return b[k/8] >> (7 - k%8) & 1
		}
		var out [26]byte
		for i := range 26 {
			var v byte
			for j := range 5 {
				v = v<<1 | bit(i*5+j-2)
			}
			out[i] = crockford[v]
		}
		return out
	}
	inputs := [][16]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for k := range 128 {
		var b [16]byte
		b[k/8] = 0x80 >> (k % 8)
		inputs = append(inputs, b)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		inputs = append(inputs, b)
	}
	for _, b := range inputs {
		if got, want := encodeID(b), bitByBit(b); got != want {
			t.Fatalf("encodeID(%x) = %s, want %s", b, got[:], want[:])
		}
	}
}
