// Package class keeps an instructor's class: which learners exist, where each
// one's cluster or namespace is and where their kubeconfig was written. A class is
// either one kind cluster per learner, or one shared cluster with a namespace per
// learner whose credentials RBAC limits to that namespace (namespaces.go).
//
// The class file is written atomically after every learner is added, so a create
// that fails half-way keeps what it made and a second run continues from there.
package class

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kindlab/kindlab/internal/atomicfile"
)

// Mode of a class.
const (
	ModeClusters   = "clusters"
	ModeNamespaces = "namespaces"
)

// Learner is one learner of the class.
type Learner struct {
	Name string `json:"name"`
	// Cluster is the kind cluster the learner works in (shared in namespace mode).
	Cluster string `json:"cluster"`
	// Namespace the learner's labs run in.
	Namespace string `json:"namespace"`
	// Kubeconfig is the file to hand to the learner.
	Kubeconfig string `json:"kubeconfig"`
	// HostPort is 127.0.0.1's port mapped to NodePort 31000 (cluster mode).
	HostPort int `json:"hostPort,omitempty"`
	// TokenExpires is when the kubeconfig's token stops working (namespace mode);
	// `kindlab class kubeconfig --learner NAME` issues a new one.
	TokenExpires time.Time `json:"tokenExpires,omitzero"`
}

// Class is what the class file holds.
type Class struct {
	Mode string `json:"mode"`
	// Cluster is the shared cluster in namespace mode.
	Cluster string `json:"cluster,omitempty"`
	// AdminKubeconfig and AdminContext reach a shared cluster that is not a kind
	// cluster of this machine (empty: the kind cluster Cluster).
	AdminKubeconfig string    `json:"adminKubeconfig,omitempty"`
	AdminContext    string    `json:"adminContext,omitempty"`
	Learners        []Learner `json:"learners"`

	path string
}

// Dir is where a class keeps its file and kubeconfigs under the state dir.
func Dir(stateDir string) string { return filepath.Join(stateDir, "class") }

// ErrNoClass is returned by Load when no class was created.
var ErrNoClass = errors.New("no class here: create one with `kindlab class create --learners N`")

// Load reads the class under stateDir.
func Load(stateDir string) (*Class, error) {
	path := filepath.Join(Dir(stateDir), "class.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoClass
	}
	if err != nil {
		return nil, err
	}
	c := &Class{path: path}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v): fix or remove it, then `kindlab class create` again", path, err)
	}
	return c, nil
}

// New starts a class under stateDir (nothing is written until Save).
func New(stateDir, mode, cluster string) *Class {
	return &Class{Mode: mode, Cluster: cluster, path: filepath.Join(Dir(stateDir), "class.json")}
}

// Path of the class file.
func (c *Class) Path() string { return c.path }

// Get returns the learner called name.
func (c *Class) Get(name string) (*Learner, error) {
	for i := range c.Learners {
		if c.Learners[i].Name == name {
			return &c.Learners[i], nil
		}
	}
	var names []string
	for _, l := range c.Learners {
		names = append(names, l.Name)
	}
	return nil, fmt.Errorf("no learner %q in the class; learners: %v", name, names)
}

// Put adds or replaces a learner and keeps the list sorted.
func (c *Class) Put(l Learner) {
	for i := range c.Learners {
		if c.Learners[i].Name == l.Name {
			c.Learners[i] = l
			return
		}
	}
	c.Learners = append(c.Learners, l)
	sort.Slice(c.Learners, func(i, j int) bool { return c.Learners[i].Name < c.Learners[j].Name })
}

// Remove drops a learner.
func (c *Class) Remove(name string) {
	out := c.Learners[:0]
	for _, l := range c.Learners {
		if l.Name != name {
			out = append(out, l)
		}
	}
	c.Learners = out
}

// Save writes the class file atomically.
func (c *Class) Save() error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(c.path, append(data, '\n'), 0o600)
}

// Delete removes the class file (the kubeconfigs are removed by their owners).
func (c *Class) Delete() error {
	err := os.Remove(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// LearnerName is the n-th learner's name (1-based): prefix-01, prefix-02, ...
func LearnerName(prefix string, n int) string { return fmt.Sprintf("%s-%02d", prefix, n) }

// KubeconfigPath is where a learner's kubeconfig goes (kind writes it there for
// a learner cluster); the directory is made private.
func KubeconfigPath(stateDir, learner string) (string, error) {
	dir := Dir(stateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return filepath.Join(dir, learner+".kubeconfig"), nil
}

// WriteKubeconfig writes a learner's kubeconfig (private: it holds credentials).
func WriteKubeconfig(stateDir, learner string, data []byte) (string, error) {
	dir := Dir(stateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, learner+".kubeconfig")
	return path, atomicfile.WriteBytes(path, data, 0o600)
}
