package cli

import (
	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/setup"
)

// NewCmdSetup builds 'ai-sandbox setup': cobra wiring over internal/setup,
// which defines the flags and does the work.
func NewCmdSetup(deps *Deps) *cobra.Command {
	o := &setup.Options{}
	cmd := &cobra.Command{
		Use:     "setup",
		Short:   setup.Short,
		Long:    setup.Long,
		Example: setup.Example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := setupDeps(deps)
			if err != nil {
				return err
			}
			return setup.Run(cmd.Context(), d, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// setupDeps are setup's dependencies, from deps; the image operations
// are called directly.
func setupDeps(deps *Deps) (setup.Deps, error) {
	images, err := imageEnv(deps)
	if err != nil {
		return setup.Deps{}, err
	}
	return setup.Deps{
		Streams:    deps.Streams,
		Runner:     deps.Runner,
		Tools:      deps.Tools,
		Home:       deps.Home,
		Getwd:      deps.Getwd,
		Getenv:     deps.Getenv,
		Paths:      images.Paths,
		Docker:     deps.Docker(),
		LoadConfig: deps.LoadConfig,
		Images:     images,
	}, nil
}
