// Command radioctl manages an autoradio cluster's mounts and shows its
// state, talking to etcd directly.
package main

import (
	"os"

	"autoradio/cmd/internal/cli"
)

func main() {
	cli.Main(newRootCmd(os.Stdout, os.Stderr))
}
