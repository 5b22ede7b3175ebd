package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ai-sandbox/ai-sandbox/internal/config"
	"github.com/ai-sandbox/ai-sandbox/internal/sandbox"
	"github.com/ai-sandbox/ai-sandbox/internal/ui"
)

// networkFacts decides the networks to join: --network and
// AI_SANDBOX_NETWORK, else the ones saved for the folder, the project,
// the workspace or all workspaces (networks.workspaces, networks.global).
// A --network without a name offers the engine's networks on a terminal.
func networkFacts(ctx context.Context, deps *Deps, cfg *config.Config, o *runOptions, ws string, dirs ...string) ([]string, error) {
	asked := dedupe(append(slices.Clone(o.networks), splitComma(deps.Getenv("AI_SANDBOX_NETWORK"))...))
	if !slices.Contains(asked, pickNetwork) {
		if len(asked) == 0 {
			return savedNetworks(cfg, append(dirs, ws)...), nil
		}
		return asked, nil
	}
	named := slices.DeleteFunc(asked, func(n string) bool { return n == pickNetwork })
	s := deps.Streams
	if !s.Interactive() || o.print {
		return nil, ui.WithHint(&ui.UsageError{Err: fmt.Errorf("--network without a name offers the networks to pick from on a terminal only")},
			"name them: --network NAME[,NAME] (ai-sandbox network list, docker network ls)")
	}
	m := &sandbox.Manager{Docker: deps.Docker(), Runner: deps.Runner, Streams: s, Debug: deps.Getenv("AI_RUN_DEBUG") == "1"}
	all, err := m.Networks(ctx)
	if err != nil {
		return nil, err
	}
	picked, err := pickNetworks(s, all)
	if err != nil {
		return nil, err
	}
	if len(picked) > 0 {
		if err := offerToSave(deps, picked, ws); err != nil {
			return nil, err
		}
	}
	return dedupe(append(named, picked...)), nil
}

// pickNetworks lists the networks, compose networks first with their
// containers, and reads the numbers of those to join.
func pickNetworks(s ui.Streams, all []sandbox.Network) ([]string, error) {
	if len(all) == 0 {
		s.Infof("there are no docker networks to join besides docker's own (docker network create NAME makes one)")
		return nil, nil
	}
	fmt.Fprintln(s.Err, "Docker networks the sandbox can join:")
	group := ""
	for i, n := range all {
		g := "other networks"
		if n.Compose != "" {
			g = "compose networks"
		}
		if g != group {
			fmt.Fprintf(s.Err, "  %s:\n", g)
			group = g
		}
		line := fmt.Sprintf("    %d) %s", i+1, n.Name)
		if len(n.Containers) > 0 {
			line += " — " + strings.Join(n.Containers, ", ")
		}
		fmt.Fprintln(s.Err, line)
	}
	for {
		answer, err := s.Ask("Numbers to join (e.g. 1 3), a for all, Enter for none: ")
		if err != nil {
			return nil, fmt.Errorf("the network question: %w", err)
		}
		picked, ok := parsePicks(answer, all)
		if ok {
			return picked, nil
		}
		fmt.Fprintf(s.Err, "%q: give numbers from 1 to %d, a, or nothing\n", answer, len(all))
	}
}

// parsePicks reads "1 3", "1,3", "a" or "" against the listed networks.
func parsePicks(answer string, all []sandbox.Network) ([]string, bool) {
	answer = strings.TrimSpace(answer)
	if strings.EqualFold(answer, "a") || strings.EqualFold(answer, "all") {
		out := make([]string, len(all))
		for i, n := range all {
			out[i] = n.Name
		}
		return out, true
	}
	var out []string
	for _, f := range strings.FieldsFunc(answer, func(r rune) bool { return r == ',' || r == ' ' }) {
		i, err := strconv.Atoi(f)
		if err != nil || i < 1 || i > len(all) {
			return nil, false
		}
		if !slices.Contains(out, all[i-1].Name) {
			out = append(out, all[i-1].Name)
		}
	}
	return out, true
}

// offerToSave asks whether the picked networks are for this workspace
// from now on, for all workspaces, or for this run only.
func offerToSave(deps *Deps, picked []string, ws string) error {
	s := deps.Streams
	i, err := s.Choose("Join "+strings.Join(picked, ", ")+" from now on?",
		[]string{"yes, in this workspace (" + ws + ")", "yes, in all workspaces", "no, this run only"}, 3)
	if err != nil {
		return fmt.Errorf("the save question: %w", err)
	}
	if i == 2 {
		return nil
	}
	p, err := deps.Paths()
	if err != nil {
		return err
	}
	where := "all workspaces"
	err = config.Update(p, func(c *config.Config) error {
		if i == 0 {
			if c.Networks.Workspaces == nil {
				c.Networks.Workspaces = map[string][]string{}
			}
			c.Networks.Workspaces[ws] = picked
			where = ws
			return nil
		}
		c.Networks.Global = picked
		return nil
	})
	if err != nil {
		return fmt.Errorf("save the networks: %w", err)
	}
	s.Infof("saved: sandboxes in %s join %s when no --network is given ('ai-sandbox network list')", where, strings.Join(picked, ", "))
	return nil
}

func savedNetworks(cfg *config.Config, dirs ...string) []string {
	for _, d := range dirs {
		if n := cfg.Networks.Workspaces[d]; len(n) > 0 {
			return n
		}
	}
	return cfg.Networks.Global
}
