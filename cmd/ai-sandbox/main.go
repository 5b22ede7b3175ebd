// Command ai-sandbox runs AI coding agents in hardened Docker containers.
package main

import (
	"context"
	"os"

	"github.com/ai-sandbox/ai-sandbox/internal/cli"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Getenv, ui.StdStreams(os.Getenv)))
}
