package registry

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// rawImage is an image as `docker save` wrote it, its layers left uncompressed.
//
// A node's containerd keeps the images preloaded in kindlab's node image with
// uncompressed layers (`ctr import` of `docker save`), whose digests are their
// diff IDs. The registry serves the same layers under the same digests, so the
// first pull of a preloaded image (the book's nginx:latest, pull policy Always)
// finds every layer in the node and asks the registry for its manifest only;
// gzipped layers had new digests, and that first pull fetched and unpacked
// ~150 MB (about 5 s). Pushing uncompressed also spares compressing them.
type rawImage struct {
	config   []byte
	manifest []byte
	layers   map[v1.Hash]rawLayer
}

// rawLayer is one uncompressed layer of a saved image.
type rawLayer struct {
	diffID v1.Hash
	size   int64
	open   func() (io.ReadCloser, error)
}

func (l rawLayer) Digest() (v1.Hash, error)             { return l.diffID, nil }
func (l rawLayer) Compressed() (io.ReadCloser, error)   { return l.open() }
func (l rawLayer) Size() (int64, error)                 { return l.size, nil }
func (l rawLayer) MediaType() (types.MediaType, error)  { return types.DockerUncompressedLayer, nil }
func (i *rawImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *rawImage) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }
func (i *rawImage) RawManifest() ([]byte, error)        { return i.manifest, nil }

func (i *rawImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("no layer %s", h)
}

// uncompressed returns img (read from a `docker save` archive) with its layers
// as they are in the archive, and a manifest that names them so. Each layer is
// read once to learn its size and to check its digest.
func uncompressed(img v1.Image) (v1.Image, error) {
	config, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(config)),
			Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(config))}},
	}
	raw := &rawImage{config: config, layers: map[v1.Hash]rawLayer{}}
	for _, id := range cf.RootFS.DiffIDs {
		layer, err := img.LayerByDiffID(id)
		if err != nil {
			return nil, err
		}
		rc, err := layer.Uncompressed()
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		size, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if got := fmt.Sprintf("%x", h.Sum(nil)); got != id.Hex {
			return nil, fmt.Errorf("layer %s of the saved image reads as sha256:%s", id, got)
		}
		raw.layers[id] = rawLayer{diffID: id, size: size, open: layer.Uncompressed}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerUncompressedLayer, Size: size, Digest: id})
	}
	if raw.manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return partial.CompressedToImage(raw)
}
