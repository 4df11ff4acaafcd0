#!/usr/bin/env bash
# Prints the version of the tree as a package version that dpkg and rpm both
# accept and order correctly (no '-', '~' sorts before a release):
#   on tag v1.2.3                  1.2.3
#   5 commits after v1.2.3         1.2.3+5.gabc1234
#   pre-release tag v1.3.0-rc1     1.3.0~rc1
#   no tag yet                     0.0.0~git20261125223045.abc1234 (commit time, UTC)
#   uncommitted changes            any of the above, then .dirty
# The same string is linked into the binary (vsched --version).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! desc=$(git describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null); then
  echo 0.0.0~unknown
  exit 0
fi
dirty=
if [[ $desc == *-dirty ]]; then
  dirty=.dirty
  desc=${desc%-dirty}
fi
if [[ $desc =~ ^v([0-9][^-]*(-[^-]+)*)-([0-9]+)-g([0-9a-f]+)$ ]]; then
  tag=${BASH_REMATCH[1]}
  version="${tag//-/\~}+${BASH_REMATCH[3]}.g${BASH_REMATCH[4]}"
elif [[ $desc =~ ^v([0-9].*)$ ]]; then
  tag=${BASH_REMATCH[1]}
  version=${tag//-/\~}
else
  when=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
  version="0.0.0~git${when}.${desc}"
fi
echo "${version}${dirty}"
