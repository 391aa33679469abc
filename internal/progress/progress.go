// Package progress keeps a learner's progress per cluster and lab in the user's
// state directory: which steps are done and the answers typed. Writes are atomic;
// a corrupt file is set aside with a warning, never a crash.
package progress

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/kindlab/kindlab/internal/atomicfile"
)

// LabProgress is one lab's progress.
type LabProgress struct {
	Done    []string          `json:"done,omitempty"`
	Current string            `json:"current,omitempty"`
	Answers map[string]string `json:"answers,omitempty"`
	Hints   map[string]int    `json:"hints,omitempty"`
	Updated time.Time         `json:"updated"`
}

// File is the progress of one cluster.
type File struct {
	Version int                     `json:"version"`
	Labs    map[string]*LabProgress `json:"labs"`
}

// Store reads and writes the progress file of one cluster.
type Store struct {
	mu   sync.Mutex
	path string
	// warning is set when a corrupt file was set aside; read with TakeWarning.
	warning string
}

// DefaultDir is where progress lives: $XDG_STATE_HOME/kindlab or ~/.local/state/kindlab.
func DefaultDir() (string, error) {
	if d := os.Getenv("KINDLAB_STATE_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "kindlab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state", "kindlab"), nil
}

// Open returns the store of cluster under dir.
func Open(dir, cluster string) *Store {
	return &Store{path: filepath.Join(dir, cluster, "progress.json")}
}

// TakeWarning returns what the learner should be told about the file (a corrupt
// one was set aside), once: it is cleared as it is taken.
func (s *Store) TakeWarning() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.warning
	s.warning = ""
	return w
}

// Path is the file's location.
func (s *Store) Path() string { return s.path }

// Load reads the file; a missing file is empty progress.
func (s *Store) Load() (*File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

func (s *Store) load() (*File, error) {
	f := &File{Version: 1, Labs: map[string]*LabProgress{}}
	data, err := os.ReadFile(s.path)
	if os.IsNotExist(err) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, f); err != nil || f.Labs == nil {
		aside := fmt.Sprintf("%s.corrupt-%s", s.path, time.Now().Format("20060102-150405"))
		if rerr := os.Rename(s.path, aside); rerr != nil {
			return nil, fmt.Errorf("progress file %s is corrupt (%v) and cannot be set aside: %w", s.path, err, rerr)
		}
		s.warning = fmt.Sprintf("progress file was corrupt; set aside as %s and started fresh", aside)
		return &File{Version: 1, Labs: map[string]*LabProgress{}}, nil
	}
	// A hand-edited file may hold what kindlab never writes.
	for id, lp := range f.Labs {
		if lp == nil {
			delete(f.Labs, id)
			continue
		}
		for step, n := range lp.Hints {
			if n < 0 {
				lp.Hints[step] = 0
			}
		}
	}
	return f, nil
}

// lock orders read-modify-writes of the file across this process (mu) and others
// (a lock file beside it): two kindlab commands at once both keep their changes.
func (s *Store) lock() (func(), error) {
	s.mu.Lock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	release, err := lockFile(s.path + ".lock")
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("lock %s: %w", s.path, err)
	}
	return func() { release(); s.mu.Unlock() }, nil
}

// Update changes one lab's progress and writes the file atomically.
func (s *Store) Update(labID string, fn func(*LabProgress)) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.load()
	if err != nil {
		return err
	}
	lp := f.Labs[labID]
	if lp == nil {
		lp = &LabProgress{}
		f.Labs[labID] = lp
	}
	fn(lp)
	lp.Updated = time.Now().UTC()
	return s.write(f)
}

// Clear removes one lab's progress (reset), or all with labID "".
func (s *Store) Clear(labID string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.load()
	if err != nil {
		return err
	}
	if labID == "" {
		f.Labs = map[string]*LabProgress{}
	} else {
		delete(f.Labs, labID)
	}
	return s.write(f)
}

func (s *Store) write(f *File) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(s.path, data, 0o644)
}

// MarkDone records a step as done.
func (lp *LabProgress) MarkDone(step string) {
	if !slices.Contains(lp.Done, step) {
		lp.Done = append(lp.Done, step)
	}
}

// DoneOf is which of steps are done, in their order: a step recorded done that the
// lab no longer has (an older version of it) does not count.
func (lp *LabProgress) DoneOf(steps []string) []string {
	out := []string{}
	for _, st := range steps {
		if lp.IsDone(st) {
			out = append(out, st)
		}
	}
	return out
}

// IsDone reports whether a step is done.
func (lp *LabProgress) IsDone(step string) bool { return lp != nil && slices.Contains(lp.Done, step) }
