package lab

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// MaxFileSize bounds a lab pack's files: a lab file or manifest is a few KiB.
const MaxFileSize = 1 << 20

// PackFS opens a lab pack's directory (labs/ or manifests/ of `--dir`) for Load:
// no path, symbolic link included, leads out of dir (os.Root), and only regular
// files up to MaxFileSize are read, so a FIFO or /dev/zero named lab.yaml is an
// error, not a hang or a machine out of memory. Close releases the directory.
func PackFS(dir string) (fs.FS, io.Closer, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	return packFS{root.FS()}, root, nil
}

type packFS struct{ inner fs.FS }

func (p packFS) Open(name string) (fs.File, error) {
	// Stat first: opening a FIFO would wait for a writer.
	info, err := p.stat(name)
	if err != nil {
		return nil, err
	}
	if err := regular(name, info); err != nil {
		return nil, err
	}
	return p.inner.Open(name)
}

func (p packFS) ReadFile(name string) ([]byte, error) {
	f, err := p.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(data) > MaxFileSize {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("larger than %d bytes", MaxFileSize)}
	}
	return data, err
}

func (p packFS) Stat(name string) (fs.FileInfo, error) {
	info, err := p.stat(name)
	if err != nil {
		return nil, err
	}
	return info, regular(name, info)
}

// stat says in plain words when name leads out of the pack (os.Root's own error is
// "path escapes from parent").
func (p packFS) stat(name string) (fs.FileInfo, error) {
	info, err := fs.Stat(p.inner, name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && strings.Contains(err.Error(), "escapes") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("a link that leads out of the lab pack (a pack's files must be inside its directory)")}
	}
	return info, err
}

func (p packFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(p.inner, name) }

func regular(name string, info fs.FileInfo) error {
	if info.IsDir() || info.Mode().IsRegular() {
		if !info.IsDir() && info.Size() > MaxFileSize {
			return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("larger than %d bytes", MaxFileSize)}
		}
		return nil
	}
	return &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
}
