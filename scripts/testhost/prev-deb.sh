#!/usr/bin/env bash
# prev-deb.sh REV VERSION OUT: the .deb of an older commit of this repository
# (for the test host's upgrade test), built from `git archive REV` in a
# temporary directory with VERSION forced (lower than this tree's), written
# to OUT. Kept beside OUT and reused while REV and VERSION stay the same.
set -euo pipefail
(($# == 3)) || {
	echo "usage: $(basename "$0") REV VERSION OUT" >&2
	exit 2
}
rev="$1" version="$2" out="$3"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
commit="$(git -C "$repo" rev-parse --verify -q "$rev^{commit}")" ||
	{
		echo "prev-deb: $rev is not a commit of $repo (a shallow clone? git fetch --unshallow)" >&2
		exit 1
	}
key="$(dirname "$out")/.prev-$commit-$version.deb"
if [[ -s "$key" ]]; then
	cp "$key" "$out"
	exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git -C "$repo" archive "$commit" | tar -x -C "$tmp"
echo "prev-deb: building the .deb of $commit as version $version" >&2
make -C "$tmp" package VERSION="$version" SOURCE_DATE_EPOCH="$(git -C "$repo" log -1 --format=%ct "$commit")" >"$tmp/make.log" 2>&1 ||
	{
		tail -n 20 "$tmp/make.log" >&2
		echo "prev-deb: make package of $commit failed" >&2
		exit 1
	}
cp "$tmp"/dist/vsched_*_amd64.deb "$key"
cp "$key" "$out"
