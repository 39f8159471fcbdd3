// Builds the kube-network-policies NetworkPolicy controller for the real node of the tests.
module portcullis.dev/test/cluster/kube-network-policies

go 1.26.0

require sigs.k8s.io/kube-network-policies v0.8.0 // indirect
