package main

import (
	"errors"
	"io"
	"testing"
	"time"
)

func TestRetentionIntervalConfig(t *testing.T) {
	t.Parallel()
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	c := DefaultConfig()
	if err := loadConfig(&c, "serve", nil, env(nil), io.Discard); err != nil || c.RetentionInterval != time.Hour {
		t.Fatalf("default: %v, %v", c.RetentionInterval, err)
	}
	c = DefaultConfig()
	if err := loadConfig(&c, "serve", nil, env(map[string]string{"HIREHOOK_RETENTION_INTERVAL": "5m"}), io.Discard); err != nil || c.RetentionInterval != 5*time.Minute {
		t.Fatalf("from env: %v, %v", c.RetentionInterval, err)
	}
	c = DefaultConfig()
	if err := loadConfig(&c, "serve", []string{"--retention-interval", "90s"}, env(map[string]string{"HIREHOOK_RETENTION_INTERVAL": "5m"}), io.Discard); err != nil || c.RetentionInterval != 90*time.Second {
		t.Fatalf("flag over env: %v, %v", c.RetentionInterval, err)
	}
	for _, v := range []string{"0s", "-1m"} {
		c = DefaultConfig()
		err := loadConfig(&c, "serve", []string{"--retention-interval", v}, env(nil), io.Discard)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "retention-interval" {
			t.Fatalf("--retention-interval %s: %v", v, err)
		}
	}
}
