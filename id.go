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
	enc := encodeID(b)
	sb.Write(enc[:])
	return sb.String()
}

// encodeID writes the 128 bits of b, most significant first, as 26
// characters of crockford: 130 bits of which the first 2 are zero, so
// character i holds bits 125-5i to 129-5i counted from the least
// significant (the first character 3 bits). (A new delivery's id is made
// in every ingest; a loop over single bits cost several thousand
// instructions an id.)
func encodeID(b [16]byte) [26]byte {
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := range out {
		shift := uint(125 - 5*i)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift > 59:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		out[i] = crockford[v&31]
	}
	return out
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
