package lab

// Check is one live check of a step. Exactly one kind field is set; its name is the
// check's kind.
type Check struct {
	ID string `yaml:"id"`
	// Title says what is checked, shown beside the verdict.
	Title Text `yaml:"title"`
	// Grade false leaves the check out of `kindlab grade`: it describes a middle
	// state that a later step of the lab changes (an image rolled back, a Service
	// replaced), so the finished lab cannot show it.
	Grade *bool `yaml:"grade,omitempty"`

	Exists     *ObjectCheck     `yaml:"exists,omitempty"`
	Absent     *ObjectCheck     `yaml:"absent,omitempty"`
	Match      *MatchCheck      `yaml:"match,omitempty"`
	Pods       *PodsCheck       `yaml:"pods,omitempty"`
	Deployment *DeploymentCheck `yaml:"deployment,omitempty"`
	ReplicaSet *ReplicaSetCheck `yaml:"replicaSet,omitempty"`
	Service    *ServiceCheck    `yaml:"service,omitempty"`
	Endpoints  *EndpointsCheck  `yaml:"endpoints,omitempty"`
	HTTP       *HTTPCheck       `yaml:"http,omitempty"`
	HostHTTP   *HostHTTPCheck   `yaml:"hostHTTP,omitempty"`
	DNS        *DNSCheck        `yaml:"dns,omitempty"`
	Exec       *ExecCheck       `yaml:"exec,omitempty"`
	Answer     *AnswerCheck     `yaml:"answer,omitempty"`
}

// Graded reports whether `kindlab grade` looks at the check: answers need what the
// learner typed, and checks marked grade: false describe a middle state.
func (c *Check) Graded() bool {
	return c.Answer == nil && (c.Grade == nil || *c.Grade)
}

// ObjectCheck names one object.
type ObjectCheck struct {
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
	// Applied requires kubectl apply's last-applied-configuration annotation.
	Applied bool `yaml:"applied,omitempty"`
}

// MatchCheck passes when the object contains Fields (a partial object, like a
// kuttl assert: maps match by subset, lists element by element).
type MatchCheck struct {
	Kind   string         `yaml:"kind"`
	Name   string         `yaml:"name"`
	Fields map[string]any `yaml:"fields"`
}

// PodsCheck counts pods. Name, Selector and CreatedBy narrow which pods are
// counted; Owner, Orphaned, Image and Ready are what each counted pod must be.
// A pod being deleted is never counted: a `kubectl run --rm` debug pod on its way
// out, a pod a controller replaced. Checks name the pods they mean precisely, so
// that what a learner leaves behind (a debug pod, another lab's pods in the same
// namespace) does not change their verdict.
type PodsCheck struct {
	Selector string `yaml:"selector"`
	// Count is the exact number wanted (with Ready: of Ready pods).
	Count *int `yaml:"count,omitempty"`
	Ready bool `yaml:"ready,omitempty"`
	// Owner is KIND or KIND/NAME of the controlling owner every counted pod must have.
	Owner string `yaml:"owner,omitempty"`
	// Orphaned requires the counted pods to have no controlling owner.
	Orphaned bool `yaml:"orphaned,omitempty"`
	// Name restricts the check to one pod.
	Name string `yaml:"name,omitempty"`
	// Image requires every counted pod to run this image in some container.
	Image string `yaml:"image,omitempty"`
	// CreatedBy is ReplicaSet/NAME: only the pods that ReplicaSet made count, even
	// after they lost its label and its ownership — pods whose generateName is
	// "NAME-" and, while a ReplicaSet NAME exists, made no earlier than it.
	CreatedBy string `yaml:"createdBy,omitempty"`
	// TotalCount is the wanted number of the pods CreatedBy made that still exist,
	// whatever their labels, owner and readiness (Selector does not narrow it; the
	// book's "four pods in all"). It needs CreatedBy: counting every pod of the
	// namespace would count a learner's debug pod and other labs' pods too.
	TotalCount *int `yaml:"totalCount,omitempty"`
	// Spread wants the pods it counts on at least this many nodes, or on every
	// node pods may run on when the cluster has fewer (on one node: that one):
	// a ReplicaSet's replicas spread over the nodes.
	Spread int `yaml:"spread,omitempty"`
}

// DeploymentCheck looks at a Deployment's rollout.
type DeploymentCheck struct {
	Name string `yaml:"name"`
	// Revision is the deployment.kubernetes.io/revision annotation.
	Revision string `yaml:"revision,omitempty"`
	// Container and Image: the template's image of that container.
	Container string `yaml:"container,omitempty"`
	Image     string `yaml:"image,omitempty"`
	// ReadyReplicas wanted (and all updated).
	ReadyReplicas *int32 `yaml:"readyReplicas,omitempty"`
	// ChangeCause requires the kubernetes.io/change-cause annotation to contain it.
	ChangeCause string `yaml:"changeCause,omitempty"`
}

// ReplicaSetCheck finds the ReplicaSet of Deployment whose template runs Image (or
// the one named Name) and checks its replicas and annotations.
type ReplicaSetCheck struct {
	Name       string `yaml:"name,omitempty"`
	Deployment string `yaml:"deployment,omitempty"`
	Image      string `yaml:"image,omitempty"`
	// Replicas is the wanted spec.replicas (and ready replicas when > 0).
	Replicas    *int32            `yaml:"replicas,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	// Original requires the ReplicaSet to be the one created at revision 1
	// (its revision-history annotation lists 1).
	Original bool `yaml:"original,omitempty"`
	// Selector is the wanted selector in kubectl's string form.
	Selector string `yaml:"selector,omitempty"`
	// Replaced requires the ReplicaSet to have replaced a pod: it created more pods
	// than its replicas (its SuccessfulCreate events), as after a pod is deleted.
	Replaced bool `yaml:"replaced,omitempty"`
}

// ServiceCheck looks at a Service's spec and status.
type ServiceCheck struct {
	Name                  string `yaml:"name"`
	Type                  string `yaml:"type,omitempty"`
	Port                  int32  `yaml:"port,omitempty"`
	TargetPort            int32  `yaml:"targetPort,omitempty"`
	PortName              string `yaml:"portName,omitempty"`
	NodePort              int32  `yaml:"nodePort,omitempty"`
	AnyNodePort           bool   `yaml:"anyNodePort,omitempty"`
	SessionAffinity       string `yaml:"sessionAffinity,omitempty"`
	ExternalTrafficPolicy string `yaml:"externalTrafficPolicy,omitempty"`
	HealthCheckNodePort   bool   `yaml:"healthCheckNodePort,omitempty"`
	ExternalName          string `yaml:"externalName,omitempty"`
	Selector              string `yaml:"selector,omitempty"`
	// LoadBalancerAddress requires status.loadBalancer.ingress to hold an address.
	LoadBalancerAddress bool `yaml:"loadBalancerAddress,omitempty"`
	// AnnouncedWherePods requires the load balancer to announce the address
	// from a node that runs a Ready pod of the Service (MetalLB's layer-2
	// "nodeAssigned" event names the node), as externalTrafficPolicy: Local
	// makes it.
	AnnouncedWherePods bool `yaml:"announcedWherePods,omitempty"`
	// NoClusterIP requires that no cluster IP is allocated (ExternalName).
	NoClusterIP bool `yaml:"noClusterIP,omitempty"`
	// Annotations the Service must carry.
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// EndpointsCheck counts the ready endpoints of a Service (EndpointSlices).
type EndpointsCheck struct {
	Service string `yaml:"service"`
	Count   int    `yaml:"count"`
	Port    int32  `yaml:"port,omitempty"`
}

// HTTPCheck requests URL from kindlab's helper pod inside the cluster. URL may use
// {pod:NAME} for a pod's IP and {svc:NAME} for a Service's cluster IP.
type HTTPCheck struct {
	URL      string `yaml:"url"`
	Contains string `yaml:"contains,omitempty"`
	// Requests is how many requests to send (default 1).
	Requests int `yaml:"requests,omitempty"`
	// DistinctAtLeast: the replies come from at least this many pods (different
	// "Hello, <hostname>" lines).
	DistinctAtLeast int `yaml:"distinctAtLeast,omitempty"`
	// SamePod: every reply comes from one pod.
	SamePod bool `yaml:"samePod,omitempty"`
}

// HostHTTPCheck requests a Service from the learner's machine.
type HostHTTPCheck struct {
	Service string `yaml:"service"`
	// Via is nodePort (the node's address), everyNode (the NodePort on every
	// node's address), hostPort (127.0.0.1 mapped port) or loadBalancer
	// (status.loadBalancer.ingress).
	Via string `yaml:"via"`
	// OnlyWherePods, with everyNode: the nodes that run a Ready pod the Service
	// selects must answer and the others must not (externalTrafficPolicy: Local).
	OnlyWherePods bool   `yaml:"onlyWherePods,omitempty"`
	Path          string `yaml:"path,omitempty"`
	Contains      string `yaml:"contains,omitempty"`
}

// DNSCheck resolves Name from inside the cluster.
type DNSCheck struct {
	Name  string `yaml:"name"`
	CNAME string `yaml:"cname,omitempty"`
	// Address requires an A record (any) when true.
	Address bool `yaml:"address,omitempty"`
}

// ExecCheck runs Command in a container of a pod in the cluster (never on the
// learner's machine) and looks for Contains in its output.
type ExecCheck struct {
	Pod       string   `yaml:"pod"`
	Container string   `yaml:"container,omitempty"`
	Command   []string `yaml:"command"`
	Contains  string   `yaml:"contains"`
}

// AnswerCheck asks the learner for a value only a read-only command shows, and
// compares it with the cluster's truth.
type AnswerCheck struct {
	Question Text `yaml:"question"`
	// Truth is one of: podIP, podHostname, podNode, serviceClusterIP, serviceNodePort,
	// with Object naming the pod or Service.
	Truth  string `yaml:"truth"`
	Object string `yaml:"object"`
}

// KindName returns the name of the check's kind ("" when none or several are set).
func (c *Check) KindName() string {
	var names []string
	add := func(set bool, n string) {
		if set {
			names = append(names, n)
		}
	}
	add(c.Exists != nil, "exists")
	add(c.Absent != nil, "absent")
	add(c.Match != nil, "match")
	add(c.Pods != nil, "pods")
	add(c.Deployment != nil, "deployment")
	add(c.ReplicaSet != nil, "replicaSet")
	add(c.Service != nil, "service")
	add(c.Endpoints != nil, "endpoints")
	add(c.HTTP != nil, "http")
	add(c.HostHTTP != nil, "hostHTTP")
	add(c.DNS != nil, "dns")
	add(c.Exec != nil, "exec")
	add(c.Answer != nil, "answer")
	if len(names) != 1 {
		return ""
	}
	return names[0]
}
