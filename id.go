package hirehook

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// crockford is Crockford's base32 alphabet in lower case: ids sort in the
// order they were made and read without ambiguity (no i, l, o, u).
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a new id with the given prefix ("evt", "ep", "dlv"): the
// prefix, an underscore, then 26 characters that encode 48 bits of
// milliseconds since the Unix epoch and 80 random bits. Ids made later sort
// after ids made earlier (to the millisecond).
func NewID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	var sb strings.Builder
	sb.Grow(len(prefix) + 27)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	// 128 bits → 26 base32 characters: 130 bits of which the first 2 are
	// zero. Bit k counts from the most significant bit of b.
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

// ValidEventID reports whether id may be used as a producer-supplied event
// id: 1–128 letters, digits, '_', '-' or ':'. A '.' is refused because the id
// is part of the signed content "id.timestamp.body".
func ValidEventID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}
