package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ai-sandbox/ai-sandbox/internal/cli"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ai-sandbox": func() {
			os.Exit(cli.Main(context.Background(), os.Args[1:], os.Getenv, ui.StdStreams(os.Getenv)))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
