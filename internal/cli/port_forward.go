package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/egress"
)

// NewCmdPortForward publishes a sandbox's ports under the allowlist
// policy, run by ai-sandbox in a container of its own; it is not for
// users. It relays each port to the sandbox, by name on its network, and
// stops once the sandbox is gone.
func NewCmdPortForward(_ *Deps) *cobra.Command {
	var to, ports string
	cmd := &cobra.Command{
		Use:    "__port-forward",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := &egress.Forwarder{Target: to, Misses: 2}
			for _, s := range strings.Split(ports, ",") {
				p, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || p < 1 || p > 65535 {
					return fmt.Errorf("--ports: %q is not a port", s)
				}
				f.Ports = append(f.Ports, p)
			}
			lns, err := f.Listen()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(os.Stderr, "%s forwarding ports %s to %s\n", time.Now().UTC().Format(time.RFC3339), ports, to)
			err = f.Serve(ctx, lns)
			if egress.IsGone(err) {
				fmt.Fprintf(os.Stderr, "%s %s is gone: stopping\n", time.Now().UTC().Format(time.RFC3339), to)
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the sandbox's name on its network")
	cmd.Flags().StringVar(&ports, "ports", "", "the ports, comma-separated")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("ports")
	return cmd
}
