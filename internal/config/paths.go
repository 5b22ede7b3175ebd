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
func (p Paths) ToolHome(tool string) string {
	return filepath.Join(p.Root, "tools", tool, "home")
}
func (p Paths) SharedGit() string   { return filepath.Join(p.Root, "shared", "git") }
func (p Paths) OpencodeDBs() string { return filepath.Join(p.Root, "opencode-dbs") }
func (p Paths) ProjectDB(tool, project string) string {
	if tool == "opencode" {
		// The original's location, so migrated users keep their data.
		return filepath.Join(p.Root, "opencode-dbs", project)
	}
	return filepath.Join(p.Root, tool+"-dbs", project)
}
func (p Paths) Cache() string { return filepath.Join(p.Root, "cache") }
func (p Paths) Logs() string  { return filepath.Join(p.Root, "logs") }
