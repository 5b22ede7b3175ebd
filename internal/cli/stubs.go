package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// The commands below are not built yet: their help says so, and running
// them fails with a clear message (exit 1) instead of doing nothing.

// notYet is the help text of a command that is not built yet.
const notYet = "(not implemented yet) "

func stub(use, short, later string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: notYet + short,
		Long: short + ".\n\nNot implemented yet in this version of ai-sandbox: running it only says so.\n" +
			later,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("%s is not implemented yet in this version of ai-sandbox", use)
		},
	}
}

func NewCmdClean(deps *Deps) *cobra.Command {
	return stub("clean", "Remove caches, sandbox homes and stopped sandboxes",
		"Until it is, a project's state is ~/.ai-sandbox/projects/<key> ('ai-sandbox project show' names it).")
}

func NewCmdDoctor(deps *Deps) *cobra.Command {
	return stub("doctor", "Check the docker engine, the image and the sandbox's hardening",
		"Until it is, 'docker info', 'ai-sandbox config show' and 'ai-sandbox image list' tell most of it.")
}
