package route

import (
	"testing"

	"github.com/itchyny/gojq"
)

func TestMayWriteInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr  string
		write bool
	}{
		{`.type == "job.posted"`, false},
		{`.a <= 1 and .b != 2 and .c >= 3`, false},
		{`{a: .data | to_entries | map(.key)}`, false},
		{`with_entries(select(.key != "x"))`, false},
		{`del(.data.client)`, true},
		{`delpaths([["data"]])`, true},
		{`.data |= with_entries(.value = null)`, true},
		{`.data.a += 1`, true},
		{`.data.a //= 1`, true},
		{`.data.a = 1`, true},
		{`"a=b"`, true}, // a false positive: only costs a copy
	} {
		q, err := gojq.Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := mayWriteInput(q); got != tc.write {
			t.Errorf("mayWriteInput(%s) = %v, want %v (%s)", tc.expr, got, tc.write, q)
		}
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    any
		want string
	}{
		{map[string]any{"b": 1, "a": []any{nil, true, false, 1.5, "x"}}, `{"a":[null,true,false,1.5,"x"],"b":1}`},
		{"\"\\\n\r\t\x00\x7f<>&é\u2028", `"\"\\\n\r\t\u0000\u007f<>&é` + "\u2028" + `"`},
		{"a\xffb", `"a\ufffdb"`},
		{[]any{1e21, 1e-7, 0.0, -2.5}, `[1e+21,1e-7,0,-2.5]`},
	} {
		got, err := encode(tc.v, 0)
		if err != nil || string(got) != tc.want {
			t.Errorf("encode(%#v) = %s, %v; want %s", tc.v, got, err, tc.want)
		}
	}
	if _, err := encode([]any{"aaaa", "bbbb"}, 10); err != errTooLarge {
		t.Errorf("limit 10: err = %v", err)
	}
	if got, err := encode([]any{"aaaa", "bb"}, 13); err != nil || string(got) != `["aaaa","bb"]` {
		t.Errorf("limit 13: %s %v", got, err)
	}
	if _, err := encode("\x00\x00\x00", 10); err != errTooLarge {
		t.Errorf("escapes over the limit: err = %v", err)
	}
}
