package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ai-sandbox/ai-sandbox/internal/egress"
)

// NewCmdEgressProxy is the allowlist policy's proxy, run by ai-sandbox in
// a container of its own; it is not for users. It serves the sandboxes
// named in --config (re-read when it changes), refuses everything else,
// and logs each refusal as a JSON line in --log.
func NewCmdEgressProxy(_ *Deps) *cobra.Command {
	var config, logPath, listen string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:    "__egress-proxy",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lf := &egress.RotatingFile{Path: logPath, Max: egress.MaxLog}
			if _, err := lf.Write(nil); err != nil {
				return fmt.Errorf("the refusal log: %w", err)
			}
			defer lf.Close()
			watched := &egress.Watched{Path: config, Interval: time.Second, OnError: func(err error) {
				fmt.Fprintf(os.Stderr, "%s config kept, the new one is bad: %v\n", time.Now().UTC().Format(time.RFC3339), err)
			}}
			log := egress.NewLog(lf)
			p := &egress.Proxy{Lookup: watched.Lookup, Resolver: net.DefaultResolver, Deny: log.Deny}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			srv := p.Server()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
				_ = srv.Close()
			}()
			// The proxy stops once no sandbox it serves is there (the
			// container goes with it: --rm); the next launch starts one.
			if grace > 0 {
				go func() {
					r := &egress.Reaper{Grace: grace, Misses: 2, Alive: egress.AliveTCP}
					tick := time.NewTicker(10 * time.Second)
					defer tick.Stop()
					for {
						select {
						case <-ctx.Done():
							return
						case now := <-tick.C:
							c, changed := watched.Current()
							if r.Done(ctx, c, changed, now) {
								fmt.Fprintf(os.Stderr, "%s no sandbox left: stopping\n", now.UTC().Format(time.RFC3339))
								stop()
								return
							}
						}
					}
				}()
			}
			fmt.Fprintf(os.Stderr, "%s egress proxy on %s, config %s\n", time.Now().UTC().Format(time.RFC3339), ln.Addr(), config)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the proxy's config (JSON), re-read when it changes")
	cmd.Flags().StringVar(&logPath, "log", "", "where refusals are appended, one JSON line each")
	cmd.Flags().StringVar(&listen, "listen", ":3128", "the address to listen on")
	cmd.Flags().DurationVar(&grace, "reap-grace", time.Minute, "stop once the config is this old and no sandbox it names answers (0: never stop)")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("log")
	return cmd
}
