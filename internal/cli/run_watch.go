package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ai-sandbox/ai-sandbox/internal/gitguard"
	"github.com/ai-sandbox/ai-sandbox/internal/hostexec"
	"github.com/ai-sandbox/ai-sandbox/internal/hostfs"
)

// gitlinkWatch disarms, while a session runs, the repositories that the
// user's git status of the project enters: the submodules recorded in the
// project's index and the git dirs under .git/modules. An agent that makes
// a nested repository of its own, with a command in its config, and
// records it as a submodule would otherwise make the next git status on
// the host (a shell prompt runs one) run that command. The sandbox cannot
// change the project's own .git, nor the git dirs protected at launch.
type gitlinkWatch struct {
	project   string
	since     time.Time
	protected []string

	mu       sync.Mutex
	disarmed []string
}

// watchEvery is how often the watch looks.
const watchEvery = 250 * time.Millisecond

func newGitlinkWatch(project string, since time.Time, protected []string) *gitlinkWatch {
	return &gitlinkWatch{project: project, since: since, protected: protected}
}

// run looks until ctx ends. The index is read again only when it changes;
// the few files of the submodules it names are looked at each time.
func (w *gitlinkWatch) run(ctx context.Context) {
	index := filepath.Join(w.project, ".git", "index")
	if _, err := os.Lstat(filepath.Join(w.project, ".git")); err != nil {
		return // no repository: nothing records submodules
	}
	hashLen := gitguard.HashLen(w.project)
	var indexMod time.Time
	var links []string
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		if fi, err := os.Lstat(index); err == nil && !fi.ModTime().Equal(indexMod) {
			indexMod = fi.ModTime()
			if data, err := hostfs.New(w.project).ReadFile(filepath.Join(".git", "index"), 512<<20); err == nil {
				if l, err := gitguard.Gitlinks(data, hashLen); err == nil {
					links = l
				}
			}
		}
		w.disarm(hostexec.Gitlinked(w.project, links, w.since))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *gitlinkWatch) disarm(changes []hostexec.Change) {
	for _, d := range disarmChanges(w.project, changes, w.protected) {
		w.mu.Lock()
		if !slices.Contains(w.disarmed, d) {
			w.disarmed = append(w.disarmed, d)
		}
		w.mu.Unlock()
	}
}

// disarmChanges disarms the git dirs of changes (never the project's own
// .git, nor those the sandbox could not write) and marks their changes.
// It returns the paths it set aside or rewrote.
func disarmChanges(project string, changes []hostexec.Change, protected []string) []string {
	var done []string
	disarmed := map[string]bool{}
	for _, c := range changes {
		if c.GitDir == "" || c.GitDir == ".git" || slices.Contains(protected, c.GitDir) {
			continue
		}
		if _, seen := disarmed[c.GitDir]; !seen {
			changed, _ := gitguard.Defuse(project, c.GitDir)
			disarmed[c.GitDir] = len(changed) > 0
			done = append(done, changed...)
		}
	}
	for i, c := range changes {
		changes[i].Disarmed = disarmed[c.GitDir]
	}
	return done
}
