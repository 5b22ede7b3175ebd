package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// ---- 1. docker ------------------------------------------------------------

// checkDocker asks the engine for 'docker info': a CLI that is not
// installed or an engine that does not answer stops setup before
// anything is written.
func (s *wizard) checkDocker(ctx context.Context) error {
	dk := s.deps.Docker
	// {{json .}} works with docker and podman alike (their fields differ).
	res, err := s.deps.Runner.Output(ctx, []string{dk, "info", "--format", "{{json .}}"})
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "executable file not found") {
			return ui.WithHint(fmt.Errorf("the docker CLI %q was not found", dk),
				"install Docker Engine (Linux) or Docker Desktop (macOS, Windows), then run setup again",
				"with Podman, set AI_SANDBOX_DOCKER=podman")
		}
		return fmt.Errorf("docker info: %w", err)
	}
	if res.ExitCode != 0 {
		msg := ui.FirstLine(strings.TrimSpace(string(res.Stderr)))
		if msg == "" {
			msg = fmt.Sprintf("docker info exited with code %d", res.ExitCode)
		}
		hints := []string{"start the Docker engine: Docker Desktop (macOS, Windows), 'sudo systemctl start docker' (Linux) or 'colima start'; 'docker info' must work"}
		if strings.Contains(msg, "permission denied") {
			hints = append(hints, "your user may not use the engine: add it to the docker group ('sudo usermod -aG docker $USER') and log in again")
		}
		return ui.WithHint(fmt.Errorf("the Docker engine does not answer: %s", msg), hints...)
	}
	s.note("docker", "engine %s answers", engineVersion(res.Stdout))
	return nil
}

// engineVersion finds the server version in 'docker info' JSON (docker:
// ServerVersion; podman: version.Version).
func engineVersion(out []byte) string {
	var info map[string]any
	if json.Unmarshal(out, &info) == nil {
		if v, ok := info["ServerVersion"].(string); ok && v != "" {
			return v
		}
		if m, ok := info["version"].(map[string]any); ok {
			if v, ok := m["Version"].(string); ok && v != "" {
				return v
			}
		}
	}
	return "(version unknown)"
}
