// Package config owns ~/.ai-sandbox: its layout, the config.json schema,
// and loading and saving it safely (strict decoding, atomic writes under
// a cross-process lock, never overwriting a file that does not parse).
package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Paths is the layout of the state folder (DESIGN.md §5).
type Paths struct {
	Root string // ~/.ai-sandbox, or $AI_SANDBOX_HOME
}

// ResolvePaths finds the state folder: $AI_SANDBOX_HOME when set, else
// ~/.ai-sandbox under home.
func ResolvePaths(getenv func(string) string, home string) (Paths, error) {
	if v := getenv("AI_SANDBOX_HOME"); v != "" {
		if strings.HasPrefix(v, "~/") {
			v = filepath.Join(home, v[2:])
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return Paths{}, fmt.Errorf("AI_SANDBOX_HOME %q: %w", v, err)
		}
		return Paths{Root: abs}, nil
	}
	if home == "" {
		return Paths{}, errors.New("cannot find the home directory: set HOME or AI_SANDBOX_HOME")
	}
	return Paths{Root: filepath.Join(home, ".ai-sandbox")}, nil
}

func (p Paths) ConfigFile() string       { return filepath.Join(p.Root, "config.json") }
func (p Paths) LegacyWorkspaces() string { return filepath.Join(p.Root, "workspaces") }
func (p Paths) EnvFile() string          { return filepath.Join(p.Root, "env") }
func (p Paths) LockFile() string         { return filepath.Join(p.Root, ".config.lock") }
func (p Paths) ToolsDir() string         { return filepath.Join(p.Root, "tools") }

// LegacyToolHome is the one home per tool that the original (and earlier
// versions) shared between all projects; it is only read, to seed the
// login store.
func (p Paths) LegacyToolHome(tool string) string {
	return filepath.Join(p.Root, "tools", tool, "home")
}

// LoginStore holds a tool's login files (tools.Tool.Logins), shared by
// the tool's homes in every project and synced by the host.
func (p Paths) LoginStore(tool string) string {
	return filepath.Join(p.Root, "tools", tool, "login")
}

// ProjectsDir holds the state of each project folder, by project key.
func (p Paths) ProjectsDir() string { return filepath.Join(p.Root, "projects") }

// ProjectState is one project folder's state: its record, the agents'
// homes in it, its session registry.
func (p Paths) ProjectState(key string) string { return filepath.Join(p.Root, "projects", key) }

// ProjectHome is a tool's home for one project, mounted at /home/agent.
func (p Paths) ProjectHome(key, tool string) string {
	return filepath.Join(p.Root, "projects", key, "homes", tool)
}
func (p Paths) SharedGit() string   { return filepath.Join(p.Root, "shared", "git") }
func (p Paths) OpencodeDBs() string { return filepath.Join(p.Root, "opencode-dbs") }
func (p Paths) ProjectDB(tool, project string) string {
	return filepath.Join(p.DBRoot(tool), project)
}

// DBRoot holds a tool's per-project database folders: opencode-dbs (the
// original's location, so migrated users keep their data) or <tool>-dbs.
func (p Paths) DBRoot(tool string) string {
	if tool == "opencode" {
		return filepath.Join(p.Root, "opencode-dbs")
	}
	return filepath.Join(p.Root, tool+"-dbs")
}

// DBOwner records which project folder owns a database folder: it lies
// next to the folders (in .owners), never inside the mounted one.
func (p Paths) DBOwner(tool, project string) string {
	return filepath.Join(p.DBRoot(tool), ".owners", project)
}
func (p Paths) Cache() string { return filepath.Join(p.Root, "cache") }
func (p Paths) Logs() string  { return filepath.Join(p.Root, "logs") }

// SharedCaches holds the package caches shared by every project's
// sandboxes, one folder per kind, when the user opted in
// (settings.sharedCaches); by default each agent home keeps its own.
func (p Paths) SharedCaches() string { return filepath.Join(p.Root, "cache", "shared") }
