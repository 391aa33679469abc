// Command kindlab turns chapter 6 of "시작하세요! 도커/쿠버네티스" into hands-on labs on a
// real local kind cluster.
package main

import (
	"os"

	"github.com/kindlab/kindlab/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
