// Package erasure rewrites stored webhook payloads to remove one person's
// data, for the stores' CandidateErase: the same bytes in, the same bytes out,
// whichever database keeps them. Members are edited in place, so the rest of
// a payload keeps its order and bytes.
package erasure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// About returns the payload of an event about the candidate with data
// {"id": id} and no changes. The other members keep their order and bytes.
func About(payload []byte, id string) ([]byte, error) {
	data, err := json.Marshal(map[string]string{"id": id})
	if err != nil {
		return nil, err
	}
	return editObject(payload, func(key string, val json.RawMessage) json.RawMessage {
		switch key {
		case "data":
			return data
		case "changes":
			return nil
		}
		return val
	})
}

// Embedded returns the payload of an event that embeds the candidate
// with data.candidate reduced to {"id": id} and the changes of candidate
// fields ("candidate", "candidate.email", "candidate_id", …) dropped.
func Embedded(payload []byte, id string) ([]byte, error) {
	summary, err := json.Marshal(map[string]string{"id": id})
	if err != nil {
		return nil, err
	}
	var editErr error
	out, err := editObject(payload, func(key string, val json.RawMessage) json.RawMessage {
		switch key {
		case "data":
			if !isObject(val) {
				return val
			}
			v, err := editObject(val, func(k string, v json.RawMessage) json.RawMessage {
				if k == "candidate" && isObject(v) {
					return summary
				}
				return v
			})
			if err != nil {
				editErr = err
			}
			return v
		case "changes":
			if !isObject(val) {
				return val
			}
			v, err := editObject(val, func(k string, v json.RawMessage) json.RawMessage {
				if strings.HasPrefix(k, "candidate") {
					return nil
				}
				return v
			})
			if err != nil {
				editErr = err
			}
			if bytes.Equal(v, []byte("{}")) {
				return nil
			}
			return v
		}
		return val
	})
	if err == nil {
		err = editErr
	}
	return out, err
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

// editObject rewrites the JSON object raw member by member, in order: fn
// returns each member's new value, or nil to drop it.
func editObject(raw []byte, fn func(key string, val json.RawMessage) json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("decode object: not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("decode object: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("decode object: member name is not a string")
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("decode member %q: %w", key, err)
		}
		nv := fn(key, val)
		if nv == nil {
			continue
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		k, err := json.Marshal(key)
		if err != nil {
			return nil, err
		}
		out.Write(k)
		out.WriteByte(':')
		out.Write(nv)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
