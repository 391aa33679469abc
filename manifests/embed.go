// Package manifests embeds the Kubernetes manifests the labs hand to the learner
// (manifests/<lab id>/<file>.yaml).
package manifests

import "embed"

// FS holds every manifest.
//
//go:embed */*.yaml
var FS embed.FS
