package probe

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestContainsAnySHA256Markers(t *testing.T) {
	secret := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nreal\n")
	sum := sha256.Sum256(secret)
	marker := "sha256:" + hex.EncodeToString(sum[:])
	if !containsAny(secret, []string{marker}) {
		t.Error("the file with the marker's hash is not matched")
	}
	if !containsAny(secret, []string{"sha256:" + strings.ToUpper(hex.EncodeToString(sum[:]))}) {
		t.Error("an upper-case hash is not matched")
	}
	if containsAny(append(secret, 'x'), []string{marker}) {
		t.Error("another file matched the hash")
	}
	if containsAny([]byte(marker), []string{marker}) {
		t.Error("a file holding the marker text matched a hash marker")
	}
	if !containsAny([]byte("a canary-123 here"), []string{marker, "canary-123"}) {
		t.Error("a plain marker is not matched next to a hash marker")
	}
}

func TestIsMarker(t *testing.T) {
	for _, c := range []struct {
		pi   procInfo
		want bool
	}{
		{procInfo{argv0: "m-1", cmdline: "m-1 600"}, true},
		{procInfo{argv0: "/usr/bin/ai-sandbox", cmdline: "/usr/bin/ai-sandbox __probe __marker m-1"}, true},
		{procInfo{argv0: "/opt/ai-sandbox", cmdline: "/opt/ai-sandbox __probe -process-marker m-1 all"}, false},
		{procInfo{argv0: "docker", cmdline: "docker exec x probe -process-marker m-1 host-processes"}, false},
	} {
		if got := isMarker(c.pi, "m-1"); got != c.want {
			t.Errorf("isMarker(%q) = %v, want %v", c.pi.cmdline, got, c.want)
		}
	}
	if isMarker(procInfo{argv0: ""}, "") {
		t.Error("an empty marker matched")
	}
}

func TestUsageAndUnknownCheck(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(nil, "probe", nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "read-host-secret") {
		t.Errorf("no arguments: exit %d\n%s", code, errb.String())
	}
	errb.Reset()
	if code := Main(nil, "probe", []string{"nosuch"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown check "nosuch"`) {
		t.Errorf("unknown check: exit %d\n%s", code, errb.String())
	}
}

func TestChecksDescribed(t *testing.T) {
	for _, c := range Checks() {
		if c.What == "" {
			t.Errorf("%s says nothing of what it tries", c.Name)
		}
	}
}

func TestOneCheckRunsAndParses(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(nil, "probe", []string{"-env", "AI_SANDBOX_PROBE_TEST_NONE", "env-leak"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	res, err := Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := res["env-leak"]; !ok || r.Succeeded {
		t.Errorf("env-leak: %+v", res)
	}
}
