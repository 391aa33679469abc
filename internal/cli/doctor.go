package cli

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/doctor"
)

type doctorOptions struct {
	fix    bool
	output outputFormat
}

func newDoctorCommand(g *Globals, s Streams) *cobra.Command {
	o := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run a kindlab cluster (and fix it with --fix)",
		Long: `doctor checks Docker (installed, daemon up, privileged containers work), the cgroup
version, free disk, and the tools an image build needs. It prints each finding with
the command that fixes it and exits 0 only when a cluster can be created.

--fix installs Debian's docker.io, debootstrap and jq when missing, starts dockerd, and
installs a runtime wrapper only where privileged containers fail because the machine
lacks a capability. It is idempotent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var log io.Writer
			if g.Verbose {
				log = s.Err
			}
			d := doctor.New(log, g.CacheDir)
			if o.fix {
				if err := d.Fix(cmd.Context(), s.Out); err != nil {
					return err
				}
			}
			report := d.Check(cmd.Context())
			if o.output == "json" {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(report); err != nil {
					return err
				}
			} else {
				report.Print(s.Out)
			}
			if !report.CanCreateCluster() {
				return &ExitError{Code: ExitFail, Err: errors.New("this machine cannot create a cluster yet: see the fixes above")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.fix, "fix", false, "install and start what is missing (needs root)")
	addOutputFlag(cmd, &o.output)
	return cmd
}
