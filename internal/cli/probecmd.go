package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/probe"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// probeCommand is the hidden command that runs the attack probe. It runs
// inside a sandbox, where 'doctor --attack' mounts ai-sandbox's own
// executable read-only: no second binary is needed.
const probeCommand = "__probe"

// NewCmdProbe builds 'ai-sandbox __probe [flags] CHECK...|all' (hidden).
func NewCmdProbe(deps *Deps) *cobra.Command {
	return &cobra.Command{
		Use:                probeCommand + " [flags] CHECK...|all",
		Short:              "Run the attack probe (inside a sandbox; used by 'doctor --attack')",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the ai-sandbox executable: %w", err)
			}
			code := probe.Main([]string{exe, probeCommand}, exe, args, deps.Streams.Out, deps.Streams.Err)
			if code != 0 {
				return &ui.ExitError{Code: code}
			}
			return nil
		},
	}
}
