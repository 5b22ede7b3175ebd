package cli

import "github.com/spf13/cobra"

func NewCmdRun(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "run", Short: "Run an agent or a command in the project's sandbox", RunE: notImplemented("run")}
}

func NewCmdPs(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "ps", Short: "List running sandboxes", RunE: notImplemented("ps")}
}

func NewCmdStop(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "stop", Short: "Stop sandboxes", RunE: notImplemented("stop")}
}
