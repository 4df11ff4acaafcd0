#!/usr/bin/env bash
# The tier's driver inside the test host (make test-host copies it in as the
# first FILE): runs the testhost test binary beside it. A boot with /dev/kvm
# inside (--kvm-inside) runs the topology, discovery and KVM-guest tests;
# the other boot runs all the rest.
set -euo pipefail
cd "$(dirname "$0")"
chmod +x guest.sh testhost.test
args=(-test.v -test.count=1 -test.timeout=80m)
if [[ -e /dev/kvm ]]; then
	args+=(-test.run '^TestHost_(ServiceStarts|Topology|Discovery|KVMInside)')
else
	args+=(-test.run '^TestHost_' -test.skip '^TestHost_KVMInside')
fi
exec ./testhost.test "${args[@]}"
