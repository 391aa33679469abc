package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin is the kindlab binary these tests run, built once by TestMain as `make
// build` does.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kindlab-bin-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "kindlab")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// badInput is one careless or hostile input, run through the real binary.
type badInput struct {
	name string
	// setup prepares dir (the working directory, whose state/ holds progress)
	// and returns the arguments and extra environment.
	setup func(t *testing.T, dir string) (args, env []string)
	code  int
	// The output (stdout, then stderr) must contain each of these.
	output []string
	// check looks at dir afterwards.
	check func(t *testing.T, dir string)
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pack makes a lab pack in dir/pack whose lab "a" is what lab.yaml holds.
func pack(t *testing.T, dir, labYAML string) string {
	p := filepath.Join(dir, "pack")
	write(t, filepath.Join(p, "labs", "a", "lab.yaml"), labYAML)
	if err := os.MkdirAll(filepath.Join(p, "manifests", "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func args(a ...string) func(*testing.T, string) ([]string, []string) {
	return func(*testing.T, string) ([]string, []string) { return a, nil }
}

// TestBadInputThroughTheBinary runs kindlab as a learner would, on every bad
// input its issues found, and wants the documented exit code (2: kindlab could
// not do its job; 1: it ran and something failed) and a message that says what
// to do — in seconds, never a hang or a panic.
func TestBadInputThroughTheBinary(t *testing.T) {
	cases := []badInput{
		{name: "unknown command", setup: args("frobnicate"), code: 2, output: []string{`unknown command "frobnicate"`}},
		{name: "unknown lab", setup: args("grade", "no-such-lab"), code: 2, output: []string{"no-such-lab"}},
		{name: "output format", setup: args("labs", "-o", "yaml"), code: 2, output: []string{`"yaml": the only format is json`}},
		{name: "output format of cluster status", setup: args("cluster", "status", "-o", "table"), code: 2, output: []string{"the only format is json"}},
		{name: "a cluster of no nodes", setup: args("cluster", "create", "--nodes", "-1", "--cluster", "never-made"), code: 2, output: []string{"--nodes -1", "1 to 8 nodes"}},
		{name: "too many nodes for kindlab up", setup: args("up", "--nodes", "9", "--no-fix"), code: 2, output: []string{"--nodes 9"}},
		{name: "nodes for a namespace class", setup: args("class", "create", "--learners", "2", "--namespaces", "--nodes", "3"), code: 2, output: []string{"kindlab up --cluster kindlab --nodes 3"}},
		{name: "cluster name that is a path", setup: args("labs", "--cluster", "../../escape"), code: 2, output: []string{"--cluster"},
			check: func(t *testing.T, dir string) {
				if _, err := os.Stat(filepath.Join(dir, "..", "escape")); err == nil {
					t.Error("--cluster ../../escape wrote outside the state directory")
				}
			}},
		{name: "docker not installed", setup: func(*testing.T, string) ([]string, []string) {
			return []string{"grade", "pod"}, []string{"PATH=/nonexistent"}
		}, code: 2, output: []string{"docker is not installed", "kindlab doctor --fix"}},
		{name: "docker daemon not running", setup: func(_ *testing.T, dir string) ([]string, []string) {
			return []string{"grade", "pod"}, []string{"DOCKER_HOST=unix://" + filepath.Join(dir, "no-such.sock")}
		}, code: 2, output: []string{"the Docker daemon does not answer", "kindlab doctor --fix"}},
		{name: "docker daemon that never answers", setup: func(t *testing.T, dir string) ([]string, []string) {
			// A socket that accepts and never answers, as a wedged daemon does.
			sock := filepath.Join(dir, "wedged.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { c.Close() })
				}
			}()
			return []string{"grade", "pod"}, []string{"DOCKER_HOST=unix://" + sock}
		}, code: 2, output: []string{"did not answer within", "restart it"}},
		{name: "kubeconfig that is not one", setup: func(t *testing.T, dir string) ([]string, []string) {
			write(t, filepath.Join(dir, "bad.kubeconfig"), "garbage\n")
			return []string{"grade", "pod", "--kubeconfig", filepath.Join(dir, "bad.kubeconfig")}, nil
		}, code: 2, output: []string{"kubeconfig"}},
		{name: "kubeconfig that is missing", setup: args("check", "pod", "--kubeconfig", "/nonexistent/kubeconfig"), code: 2, output: []string{"--kubeconfig", "no such file"}},
		{name: "selftest without a cluster", setup: args("labs", "selftest", "pod", "--kubeconfig", "/nonexistent/kubeconfig"), code: 2, output: []string{"--kubeconfig", "no such file"}},
		{name: "selftest of a pack that is not there", setup: args("labs", "selftest", "--dir", "/nonexistent/pack"), code: 2, output: []string{"--dir"}},
		{name: "selftest of an unknown lab", setup: args("labs", "selftest", "no-such-lab", "--kubeconfig", "/nonexistent/kubeconfig"), code: 2, output: []string{"no-such-lab"}},
		{name: "output format of class status", setup: args("class", "status", "-o", "yaml"), code: 2, output: []string{"the formats are json and csv"}},
		{name: "corrupt progress file", setup: func(t *testing.T, dir string) ([]string, []string) {
			write(t, filepath.Join(dir, "state", "kindlab", "progress.json"), "{not json")
			return []string{"hint", "pod", "--lang", "en"}, nil
		}, code: 0, output: []string{"set aside"}, check: func(t *testing.T, dir string) {
			matches, _ := filepath.Glob(filepath.Join(dir, "state", "kindlab", "progress.json.corrupt*"))
			if len(matches) == 0 {
				t.Error("the corrupt progress file was not kept aside")
			}
		}},
		{name: "negative hint count in progress", setup: func(t *testing.T, dir string) ([]string, []string) {
			write(t, filepath.Join(dir, "state", "kindlab", "progress.json"), `{"version":1,"labs":{"pod":{"hints":{"create-pod":-5}}}}`)
			return []string{"hint", "pod", "--lang", "en"}, nil
		}, code: 0},
		{name: "progress path that is a directory", setup: func(t *testing.T, dir string) ([]string, []string) {
			if err := os.MkdirAll(filepath.Join(dir, "state", "kindlab", "progress.json"), 0o755); err != nil {
				t.Fatal(err)
			}
			return []string{"hint", "pod"}, nil
		}, code: 2, output: []string{"progress.json"}},
		{name: "lab pack manifest outside the pack", setup: func(t *testing.T, dir string) ([]string, []string) {
			p := pack(t, dir, "id: a\norder: 1\ntitle: {en: A, ko: A}\ngoal: {en: A, ko: A}\nmanifests: [../other/x.yaml]\nsteps: []\n")
			return []string{"labs", "lint", "--dir", p}, nil
		}, code: 1, output: []string{"lab files have problems"}},
		{name: "lab pack file that is a FIFO", setup: func(t *testing.T, dir string) ([]string, []string) {
			p := pack(t, dir, "")
			lab := filepath.Join(p, "labs", "a", "lab.yaml")
			os.Remove(lab)
			if err := syscall.Mkfifo(lab, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"labs", "lint", "--dir", p}, nil
		}, code: 1, output: []string{"not a regular file"}},
		{name: "lab pack file linked to /dev/zero", setup: func(t *testing.T, dir string) ([]string, []string) {
			p := pack(t, dir, "")
			lab := filepath.Join(p, "labs", "a", "lab.yaml")
			os.Remove(lab)
			if err := os.Symlink("/dev/zero", lab); err != nil {
				t.Fatal(err)
			}
			return []string{"labs", "lint", "--dir", p}, nil
		}, code: 1, output: []string{"leads out of the lab pack"}},
		{name: "lab pack with an HTTP check on a metadata address", setup: func(t *testing.T, dir string) ([]string, []string) {
			p := pack(t, dir, `id: a
order: 1
title: {en: A, ko: A}
goal: {en: A, ko: A}
steps:
- id: s
  title: {en: S, ko: S}
  instructions: {en: S, ko: S}
  hints: [{en: h, ko: h}]
  solution: {commands: [kubectl get pods]}
  checks:
  - id: c
    title: {en: C, ko: C}
    http: {url: "http://169.254.169.254/latest/meta-data/", expect: "x"}
`)
			return []string{"labs", "lint", "--dir", p}, nil
		}, code: 1, output: []string{"may not send kindlab's requests anywhere else"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			a, env := tc.setup(t, dir)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, a...)
			cmd.Dir = dir
			cmd.Env = append(append(os.Environ(), "KINDLAB_STATE_DIR="+filepath.Join(dir, "state"), "LANG=C"), env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if ctx.Err() != nil {
				t.Fatalf("kindlab %s hung (killed after a minute)", strings.Join(a, " "))
			}
			if code != tc.code {
				t.Errorf("kindlab %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(a, " "), code, tc.code, stdout.String(), stderr.String())
			}
			for _, want := range tc.output {
				if !strings.Contains(stdout.String()+stderr.String(), want) {
					t.Errorf("kindlab %s: output does not say %q:\nstdout:\n%s\nstderr:\n%s", strings.Join(a, " "), want, stdout.String(), stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "panic:") || strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("kindlab %s panicked:\n%s", strings.Join(a, " "), stderr.String())
			}
			if tc.check != nil {
				tc.check(t, dir)
			}
		})
	}
}
