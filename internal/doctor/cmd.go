package doctor

import "github.com/kindlab/kindlab/internal/runner"

func cmdWithEnv(name string, args []string, env ...string) runner.Cmd {
	return runner.Cmd{Name: name, Args: args, Env: env}
}
