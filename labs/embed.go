// Package labs embeds the chapter's lab files (labs/<id>/lab.yaml).
package labs

import "embed"

// FS holds every lab file.
//
//go:embed */lab.yaml
var FS embed.FS
