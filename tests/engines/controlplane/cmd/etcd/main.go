// Command etcd is etcd's own server entry point, built inside this module so that its version is
// the one the pinned Kubernetes release requires (go.etcd.io/etcd/server/v3 cannot be installed
// with `go install`: its go.mod has replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
