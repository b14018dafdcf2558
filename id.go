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
	return encodeID(prefix, &b)
}

// encodeID returns prefix, an underscore and the 128 bits of b as 26
// base32 characters: 130 bits of which the first 2 are zero, so the first
// character holds b's top 3 bits and the last its lowest 5. They are taken
// five at a time from the low end of b read as a 128-bit number (every id
// is made here: a bit at a time it took a microsecond).
func encodeID(prefix string, b *[16]byte) string {
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var chars [26]byte
	for i := len(chars) - 1; i >= 0; i-- {
		chars[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + 1 + len(chars))
	sb.WriteString(prefix)
	sb.WriteByte('_')
	sb.Write(chars[:])
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
