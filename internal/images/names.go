package images

import "strings"

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
	// CNIInstall runs kindlab's single-node CNI DaemonSet.
	CNIInstall = "kindlab/cni-install:v1"
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
	// DefaultPodSubnet is kind's pod subnet, which kindlab's clusters keep; the node
	// image's CNI configuration is for it.
	DefaultPodSubnet = "10.244.0.0/16"
	// userlandImage is the Debian userland of the lab images.
	userlandImage = "kindlab/userland:bookworm"
	baseImage     = "kindlab/base:bookworm"
)

// nodeFeatures are the features of the node image this kindlab builds.
var nodeFeatures = []string{FeatureKubeadmPatches, FeatureCoreDNS, FeatureEarlyAddons}

// LabImages are the workload images every kindlab cluster gets.
var LabImages = []string{NginxV1, NginxV2, NginxLatest, EchoHostname, Debug}

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
