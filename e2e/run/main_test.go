// Package run_test proves `ai-sandbox run` end to end against a real
// Docker engine: an attack probe tries to break out of running sandboxes
// (one test per attack), `docker inspect` checks every hardening flag of
// DESIGN.md §3, and the lifecycle of DESIGN.md §4 (one container, many
// terminals, idle stop) is exercised with real sessions.
//
// Run: go test ./e2e/... (see e2e/harness for the environment variables).
package run_test

import (
	"os"
	"testing"

	"github.com/ai-sandbox/ai-sandbox/e2e/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
