package scripts

import (
	"os/exec"
	"testing"
)

// TestShellScriptsParse checks the scripts that no other test runs in
// full here: building packages, the chroot test, and the Vagrant
// provisioning (Vagrant cannot run on the test machines).
func TestShellScriptsParse(t *testing.T) {
	t.Parallel()
	for _, script := range []string{"build-deb", "deb-test", "configure-node", "install-deps",
		"run-node", "../vagrant-test/provision.sh", "../debian/manpage"} {
		if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", script, err, out)
		}
	}
}
