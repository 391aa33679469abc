package images

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"strings"
)

// LocalPathVersion is the rancher.io/local-path provisioner built for kind's
// default StorageClass: the release the module proxy serves.
const LocalPathVersion = "v0.0.30"

// StorageManifest is where a kind node image keeps its default storage manifest;
// kind applies it with kubectl after `kubeadm init` (or a single host-path
// StorageClass that nothing provisions, when the image has none). In kindlab's
// node image it holds only the default StorageClass: kindlab applies all of
// LocalPathManifest as soon as the API server answers, and kind's kubectl, on the
// busiest seconds of a create, then has one object to apply instead of nine.
const StorageManifest = "/kind/manifests/default-storage.yaml"

// LocalPathManifest is kind's whole default storage manifest in kindlab's node
// image: the local-path provisioner, its configuration and the StorageClass.
const LocalPathManifest = "/kind/manifests/kindlab-storage.yaml"

// kindStorage is kind's default storage, as kind's node-image builder puts it in
// its images: the manifest and the provisioner's and helper pod's images.
type kindStorage struct {
	manifest, provisioner, helper string
}

// readKindStorage evaluates the constants of kind's node-image builder that hold
// its default storage. They are Go source in the kind module, so they are read by
// type-checking that one file (it imports nothing), not by matching text.
func readKindStorage(kindDir string) (kindStorage, error) {
	path := filepath.Join(kindDir, "pkg", "build", "nodeimage", "const_storage.go")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return kindStorage{}, fmt.Errorf("kind's storage manifest: %w", err)
	}
	pkg, err := (&types.Config{}).Check(f.Name.Name, fset, []*ast.File{f}, nil)
	if err != nil {
		return kindStorage{}, fmt.Errorf("kind's storage manifest: %w", err)
	}
	str := func(name string) (string, error) {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || c.Val().Kind() != constant.String {
			return "", fmt.Errorf("kind's storage manifest: %s has no string constant %s", path, name)
		}
		return constant.StringVal(c.Val()), nil
	}
	var s kindStorage
	for _, v := range []struct {
		name string
		dst  *string
	}{{"defaultStorageManifest", &s.manifest}, {"storageProvisionerImage", &s.provisioner}, {"storageHelperImage", &s.helper}} {
		if *v.dst, err = str(v.name); err != nil {
			return kindStorage{}, err
		}
	}
	return s, nil
}

var storageClassRE = regexp.MustCompile(`(?m)^kind: StorageClass\s*$`)

// storageClasses is the manifest's StorageClass documents alone.
func storageClasses(manifest string) string {
	var keep []string
	for _, doc := range strings.Split(manifest, "\n---") {
		if storageClassRE.MatchString(doc) {
			keep = append(keep, strings.Trim(doc, "\n"))
		}
	}
	return strings.Join(keep, "\n---\n") + "\n"
}
