package images

import (
	"fmt"
	"strings"
)

// NodeImage is the tag of the node image built for a Kubernetes version.
func NodeImage(kubernetesVersion string) string { return "kindlab/node:" + kubernetesVersion }

// The lab workload images, named as the book names them, so that a learner can type
// the book's commands word for word. They are local look-alikes built by kindlab:
// nothing is pulled from Docker Hub.
const (
	NginxV1      = "nginx:1.10"
	NginxV2      = "nginx:1.11"
	NginxLatest  = "nginx:latest"
	EchoHostname = "alicek106/rr-test:echo-hostname"
	Debug        = "alicek106/ubuntu:curl"
	// SidecarCurl is the second container of the book's sidecar pod
	// (nginx-pod-with-ubuntu.yaml): curl in an Ubuntu-like userland, the debug image.
	SidecarCurl = "alicek106/rr-test:curl"
	// MetalLBVersion is the load-balancer implementation built into the node image.
	// v0.16.x needs github.com/metallb/frr-k8s v0.0.25 or newer, which the module
	// proxy does not serve; v0.15.3 builds from what it serves.
	MetalLBVersion = "v0.15.3"
	// MetalLBManifest is where the node image keeps MetalLB's manifest.
	MetalLBManifest = "/kind/manifests/kindlab-metallb.yaml"
	// KubeadmPatches is the node image's directory of kubeadm patches for the
	// control plane's static pods (kubeadm init --patches).
	KubeadmPatches = "/kind/kindlab/kubeadm-patches"
	// CoreDNSManifest is kindlab's CoreDNS, applied instead of kubeadm's add-on.
	CoreDNSManifest = "/kind/manifests/kindlab-coredns.yaml"
	// NodeFeaturesLabel lists, on a node image, what kindlab put in it beyond what
	// kind's images hold (FeatureKubeadmPatches, FeatureCoreDNS): a cluster is
	// created with what its image has.
	NodeFeaturesLabel     = "dev.kindlab.node-features"
	FeatureKubeadmPatches = "kubeadm-patches"
	FeatureCoreDNS        = "coredns"
	// FeatureEarlyAddons: the default CNI manifest is kindlab's, and kindlab installs
	// it as soon as the API server answers, rather than kind after `kubeadm init`;
	// the image's build checked that the lab images are in it.
	FeatureEarlyAddons = "early-addons"
	// FeatureRegistryMirror: every node's containerd pulls docker.io images (and
	// RegistryHostAlias ones) through kindlab's local registry (RegistryName), with no
	// upstream fallback; `cluster create` adds the fallback where the machine can
	// reach the upstream registry (MirrorHostsToml).
	FeatureRegistryMirror = "registry-mirror"
	// FeatureMultiNode: the node image's pod network (flannel) spans several nodes.
	FeatureMultiNode = "multi-node"
	// DefaultPodSubnet is kind's pod subnet, which kindlab's clusters keep; the node
	// image's CNI configuration is for it.
	DefaultPodSubnet = "10.244.0.0/16"
	// userlandImage is the Debian userland of the lab images.
	userlandImage = "kindlab/userland:bookworm"
	baseImage     = "kindlab/base:bookworm"
)

// nodeFeatures are the features of the node image this kindlab builds.
var nodeFeatures = []string{FeatureKubeadmPatches, FeatureCoreDNS, FeatureEarlyAddons, FeatureRegistryMirror, FeatureMultiNode}

// The local registry: CNCF Distribution, built from its Go source, run by kindlab
// as a container on the kind network (internal/registry).
const (
	// RegistryVersion of github.com/distribution/distribution/v3.
	RegistryVersion = "v3.1.2"
	// RegistryImage is the registry's image.
	RegistryImage = "kindlab/registry:" + RegistryVersion
	// RegistryName is the registry container's name, which is also its name on the
	// kind network, where nodes reach it on RegistryPort.
	RegistryName = "kindlab-registry"
	RegistryPort = 5000
	// RegistryHostPort is where the registry answers on 127.0.0.1 (kindlab pushes
	// there; a learner may push images of their own as localhost:5001/NAME).
	RegistryHostPort = 5001
	// CertsDir is containerd's registry host configuration directory in a node.
	CertsDir = "/etc/containerd/certs.d"
)

// RegistryHostAlias is how a learner names the local registry in an image name
// (localhost:5001/NAME), as kind's documentation does; nodes resolve it to the
// registry on the kind network.
var RegistryHostAlias = fmt.Sprintf("localhost:%d", RegistryHostPort)

// MirrorHosts are the registries whose pulls go through the local registry, by
// the directory name containerd looks up under CertsDir.
var MirrorHosts = []string{"docker.io", RegistryHostAlias}

// MirrorHostsToml is containerd's hosts.toml for host: pull through the local
// registry; with upstream, names it does not hold come from host's own registry
// (on a machine that can reach it), without, they fail at once (offline: no DNS
// time-out before an ErrImagePull). The [host] table is there in both: the
// containerd of kindlab's node image (Debian's 1.6) rejects a file without one
// ("invalid `host` tree") and then pulls from the upstream registry.
func MirrorHostsToml(host string, upstream bool) string {
	local := fmt.Sprintf("http://%s:%d", RegistryName, RegistryPort)
	server := local
	if upstream && host == "docker.io" {
		server = "https://registry-1.docker.io"
	}
	return fmt.Sprintf("# kindlab: pulls of %s images go through kindlab's local registry.\nserver = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n",
		host, server, local)
}

// LabImages are the workload images every kindlab cluster gets: every image the
// book's chapter 6 names (its published files and its commands), under the book's
// names. The local registry serves them, and kindlab's node image has them preloaded.
var LabImages = []string{NginxV1, NginxV2, NginxLatest, EchoHostname, Debug, SidecarCurl}

// ContainerdName is how containerd names an image that Docker calls name.
func ContainerdName(name string) string {
	first, _, found := strings.Cut(name, "/")
	if !found {
		return "docker.io/library/" + name
	}
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		return name
	}
	return "docker.io/" + name
}

// MetalLBImages are MetalLB's controller and speaker, under the names its manifest uses.
var MetalLBImages = []string{"quay.io/metallb/controller:" + MetalLBVersion, "quay.io/metallb/speaker:" + MetalLBVersion}
