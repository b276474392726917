package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/inferenceops/inference-operator/test/utils"
)

// serviceClusterIPRange replaces envtest's /24, which runs out of ClusterIPs after about
// 250 Services; the benchmark creates thousands (the floor's and the operator's).
const serviceClusterIPRange = "10.96.0.0/12"

// cluster is one fresh envtest control plane (etcd and kube-apiserver, listening on
// loopback only) with the InferenceService CRD installed. envtest runs no built-in
// controllers: no pods, no garbage collection, no HPA; the operator's figures need none.
type cluster struct {
	name string
	env  *envtest.Environment
	// config is the admin's, with client-side rate limiting off: the benchmark's own
	// preparation and checks must not be what is slow.
	config *rest.Config
	client client.Client
	// kubeconfig is the file the manager process reads (KUBECONFIG).
	kubeconfig string
	// version is kube-apiserver's version, for the report.
	version string
	logFile *os.File
}

// startCluster starts a control plane named name; its output goes to logDir/NAME-control-plane.log.
// apiServerFlags are further kube-apiserver flags (name without "--" -> value), such as
// the audit log and the front proxy of figure 7.
func startCluster(name, logDir, crdDir string, scheme *runtime.Scheme, apiServerFlags map[string]string) (*cluster, error) {
	logFile, err := os.Create(filepath.Join(logDir, name+"-control-plane.log"))
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		Scheme:                scheme,
		CRDDirectoryPaths:     []string{crdDir},
		ErrorIfCRDPathMissing: true,
		// Used when KUBEBUILDER_ASSETS is not set: the binaries 'make control-plane' built.
		BinaryAssetsDirectory: utils.ControlPlaneDir(),
		// The machine may be busy; envtest's 20 s default is tight for a cold etcd.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: logFile, Err: logFile}
	apiServer := env.ControlPlane.GetAPIServer()
	apiServer.Out, apiServer.Err = logFile, logFile
	apiServer.Configure().Set("service-cluster-ip-range", serviceClusterIPRange)
	for flagName, value := range apiServerFlags {
		apiServer.Configure().Set(flagName, value)
	}

	c := &cluster{name: name, env: env, logFile: logFile}
	cfg, err := env.Start()
	if err != nil {
		_ = c.stop()
		return nil, fmt.Errorf("starting control plane %s (set KUBEBUILDER_ASSETS or run 'make control-plane'): %w", name, err)
	}
	c.config = rest.CopyConfig(cfg)
	c.config.QPS, c.config.Burst = -1, 0
	if c.client, err = client.New(c.config, client.Options{Scheme: scheme}); err != nil {
		_ = c.stop()
		return nil, err
	}
	if err := c.writeOperatorKubeconfig(logDir); err != nil {
		_ = c.stop()
		return nil, err
	}
	if dc, err := discovery.NewDiscoveryClientForConfig(c.config); err == nil {
		if v, err := dc.ServerVersion(); err == nil {
			c.version = v.GitVersion
		}
	}
	return c, nil
}

// writeOperatorKubeconfig provisions a user of its own for the manager, in system:masters
// as a cluster admin would run it during a benchmark (the RBAC of the shipped ClusterRole
// is tested elsewhere), and writes its kubeconfig.
func (c *cluster) writeOperatorKubeconfig(logDir string) error {
	path, err := c.writeUserKubeconfig(logDir, operatorUser)
	c.kubeconfig = path
	return err
}

// operatorUser is the user name of the manager's client certificate; figure 7's audit
// log tells the manager's requests apart by it.
const operatorUser = "inference-operator"

// writeUserKubeconfig provisions a user in system:masters and writes its kubeconfig to
// logDir/CLUSTER[-USER].kubeconfig, returning the path.
func (c *cluster) writeUserKubeconfig(logDir, userName string) (string, error) {
	user, err := c.env.AddUser(envtest.User{Name: userName, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("provisioning the user %s: %w", userName, err)
	}
	content, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("writing the kubeconfig of %s: %w", userName, err)
	}
	path := filepath.Join(logDir, c.name+".kubeconfig")
	if userName != operatorUser {
		path = filepath.Join(logDir, c.name+"-"+userName+".kubeconfig")
	}
	return path, os.WriteFile(path, content, 0o600)
}

// stop stops kube-apiserver and etcd and removes their data.
func (c *cluster) stop() error {
	err := c.env.Stop()
	_ = c.logFile.Close()
	return err
}
