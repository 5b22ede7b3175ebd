package cli

import "github.com/spf13/cobra"

// Commands that later issues fill in. Each says so and exits 1.

func NewCmdGit(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "git", Short: "Manage git access per workspace (off, fetch-only, full)",
		RunE: notImplemented("git")}
}

func NewCmdNetwork(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "network", Short: "Manage the docker networks sandboxes join",
		RunE: notImplemented("network")}
}

func NewCmdClean(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "clean", Short: "Remove caches, sandbox homes and stopped sandboxes",
		RunE: notImplemented("clean")}
}

func NewCmdMigrateOpencodeDB(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "migrate-opencode-db", Short: "Split the global OpenCode database into per-project databases",
		RunE: notImplemented("migrate-opencode-db")}
}

func NewCmdDoctor(deps *Deps) *cobra.Command {
	return &cobra.Command{Use: "doctor", Short: "Check the docker engine, the image and the sandbox's hardening",
		RunE: notImplemented("doctor")}
}
