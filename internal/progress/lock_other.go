//go:build !unix

package progress

// lockFile: no lock across processes where flock(2) is missing; the Store's mutex
// still orders one process's writes.
func lockFile(string) (func(), error) { return func() {}, nil }
