// Command probe is the attack probe of the end-to-end tests (the checks
// live in internal/probe): mounted read-only into a running sandbox, it
// tries to break out and reports, as JSON on stdout, which attempts
// succeeded. 'probe -h' lists the checks and flags.
package main

import (
	"os"

	"github.com/ai-sandbox/ai-sandbox/internal/probe"
)

func main() {
	os.Exit(probe.Main(nil, os.Args[0], os.Args[1:], os.Stdout, os.Stderr))
}
