package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
)

// TestCLIBrokerEndpoint: endpoints create takes --kind, --config and
// --credential (a value from a file with key=@file), get and list print
// the kind and destination, update changes only the config fields and
// credentials given, and no credential's value is ever printed, not even
// in an error.
func TestCLIBrokerEndpoint(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}
	dir := t.TempDir()
	const password, saKey = "kafka-pw-Secret-1", `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----\n"}`
	pwFile, saFile := filepath.Join(dir, "password.txt"), filepath.Join(dir, "sa.json")
	os.WriteFile(pwFile, []byte(password+"\n"), 0o600)
	os.WriteFile(saFile, []byte(saKey), 0o600)
	noSecrets := func(res cliResult) {
		t.Helper()
		for _, s := range []string{password, "MIIsecret"} {
			if strings.Contains(res.stdout+res.stderr, s) {
				t.Fatalf("the CLI printed a credential's value:\n%s%s", res.stdout, res.stderr)
			}
		}
	}

	res := runCLI(t, env, "endpoints", "create", "--kind", "kafka", "--config", "brokers=127.0.0.1:9092", "--config", "topic=applications",
		"--config", "sasl_mechanism=scram-sha-256", "--credential", "username=hirehook", "--credential", "password=@"+pwFile, "--event-types", "application.*")
	noSecrets(res)
	if res.code != 0 {
		t.Fatalf("endpoints create --kind kafka: exit %d", res.code)
	}
	kafkaID := field(t, res.stdout, "id")
	if field(t, res.stdout, "kind") != "kafka" || field(t, res.stdout, "destination") != "kafka://127.0.0.1:9092/applications" ||
		!strings.Contains(res.stdout, "credentials  password,username (values hidden)") || !strings.Contains(res.stdout, "consumers verify") {
		t.Fatalf("endpoints create printed:\n%s", res.stdout)
	}
	stored, err := hub.Store.EndpointGet(t.Context(), hirehook.DefaultTenantID, kafkaID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Credentials["password"] != password || stored.Credentials["username"] != "hirehook" {
		t.Fatalf("stored credentials: username %q, password from the file (without its new line) %v", stored.Credentials["username"], stored.Credentials["password"] == password)
	}

	res = runCLI(t, env, "endpoints", "create", "--kind", "gcp_pubsub", "--config", "project_id=acme-analytics", "--config", "topic=hirehook-events",
		"--credential", "service_account_json=@"+saFile, "--event-types", "*")
	noSecrets(res)
	if res.code != 0 {
		t.Fatalf("endpoints create --kind gcp_pubsub: exit %d", res.code)
	}
	psID := field(t, res.stdout, "id")
	if stored, _ := hub.Store.EndpointGet(t.Context(), hirehook.DefaultTenantID, psID); stored.Credentials["service_account_json"] != saKey {
		t.Fatal("the service account's JSON key was not stored as the file holds it")
	}

	// get and list show the kind and destination.
	res = runCLI(t, env, "endpoints", "get", kafkaID)
	noSecrets(res)
	if res.code != 0 || field(t, res.stdout, "kind") != "kafka" || !regexp.MustCompile(`(?m)^config\s+topic=applications$`).MatchString(res.stdout) {
		t.Fatalf("endpoints get: exit %d", res.code)
	}
	res = runCLI(t, env, "endpoints", "get", kafkaID, "--json")
	noSecrets(res)
	var got map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got["kind"] != "kafka" || got["credentials"].(map[string]any)["password"] != hirehook.Masked {
		t.Fatalf("endpoints get --json: %v", got)
	}
	res = runCLI(t, env, "endpoints", "list")
	noSecrets(res)
	for _, row := range []string{
		`(?m)^` + kafkaID + `\s+kafka\s+kafka://127\.0\.0\.1:9092/applications\s+application\.\*\s+no$`,
		`(?m)^` + psID + `\s+gcp_pubsub\s+gcp-pubsub://projects/acme-analytics/topics/hirehook-events\s+\*\s+no$`,
	} {
		if !regexp.MustCompile(row).MatchString(res.stdout) {
			t.Errorf("endpoints list lacks %s:\n%s", row, res.stdout)
		}
	}
	res = runCLI(t, env, "endpoints", "list", "--json")
	if !strings.Contains(res.stdout, `"credentials"`) || !strings.Contains(res.stdout, `"kind": "gcp_pubsub"`) {
		t.Errorf("endpoints list --json:\n%s", res.stdout)
	}

	// update changes the config fields given, keeping the others, and the
	// credentials given.
	res = runCLI(t, env, "endpoints", "update", kafkaID, "--config", "topic=applications-v2", "--credential", "password=n3w-Secret-pw")
	if res.code != 0 || field(t, res.stdout, "destination") != "kafka://127.0.0.1:9092/applications-v2" ||
		!regexp.MustCompile(`(?m)^config\s+sasl_mechanism=scram-sha-256$`).MatchString(res.stdout) || strings.Contains(res.stdout, "n3w-Secret-pw") {
		t.Fatalf("endpoints update --config: exit %d", res.code)
	}
	if stored, _ := hub.Store.EndpointGet(t.Context(), hirehook.DefaultTenantID, kafkaID); stored.Credentials["password"] != "n3w-Secret-pw" || stored.Credentials["username"] != "hirehook" {
		t.Errorf("after update the credentials are not the new password and the old user name")
	}

	// Mistakes are answered before or by the hub, naming the field and
	// never the value.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"endpoints", "create", "--kind", "sqs", "--event-types", "*"}, `--kind "sqs": must be one of http, kafka`},
		{[]string{"endpoints", "create", "--kind", "kafka", "--config", "brokers=127.0.0.1:9092", "--config", "topic=t", "--credential", password, "--event-types", "*"}, "--credential: want key=value"},
		{[]string{"endpoints", "create", "--kind", "kafka", "--config", "brokers=127.0.0.1:9092", "--event-types", "*"}, "field:      config.topic"},
		{[]string{"endpoints", "create", "--config", "topic=t", "--url", "https://x.example.com", "--event-types", "*"}, "give --kind"},
		{[]string{"endpoints", "create", "--kind", "kafka", "--credential", "password=@" + filepath.Join(dir, "missing"), "--event-types", "*"}, "read password's value"},
		{[]string{"endpoints", "update", kafkaID, "--config", "topic=bad topic!"}, "field:      config.topic"},
	} {
		res := runCLI(t, env, c.args...)
		noSecrets(res)
		if res.code == 0 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("hirehook %s: exit %d, want an error with %q", strings.Join(c.args, " "), res.code, c.want)
		}
	}
}
