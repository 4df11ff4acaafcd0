#!/usr/bin/env bash
# The production-shaped test host: a Debian 12 VM with systemd, pure cgroup v2,
# libvirtd and QEMU, 8 CPUs on 2 sockets and 2 NUMA nodes, built from Debian's
# packages and booted copy-on-write to run one script inside.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
recipe="$here/testhost"
SUITE=bookworm
CACHE="${VSCHED_TESTHOST_CACHE:-/var/cache/vsched-testhost}"
IMAGE_SIZE=6G

usage() {
	cat <<EOF
usage: $(basename "$0") build
       $(basename "$0") run [--kvm-inside] [--timeout DUR] FILE...
       $(basename "$0") path

  build   make the VM image from Debian's packages (mmdebstrap, the mirror this
          machine's apt uses) into $CACHE/<recipe hash>/, unless it is there
  run     build if needed, boot the image copy-on-write (KVM outside where
          /dev/kvm works, else TCG), 8 CPUs (2 sockets x 2 cores x 2 threads,
          NUMA nodes 0-3 and 4-7, one L3 per socket), 4 GiB; install
          dist/vsched_*_amd64.deb, enable vsched.service, copy FILEs to /srv/in/,
          run /srv/in/<first FILE> as root once libvirtd answers, print its
          stdout and stderr, power off, exit with its status (124: timed out)
          --kvm-inside   2 sockets x 4 cores x 1 thread, TCG outside with nested
                         SVM, so that /dev/kvm exists inside
          --timeout DUR  the whole run, boot included (default 15m; s, m or h)
  path    print the cached image's directory (after building it if needed)

Environment: VSCHED_TESTHOST_CACHE (default /var/cache/vsched-testhost),
VSCHED_TESTHOST_ACCEL=kvm|tcg forces the outer accelerator,
VSCHED_TESTHOST_KEEP=1 keeps the run directory (console log, overlay).
EOF
}

log() { printf '[testhost %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "FATAL: $*"
	exit 1
}

# --- the recipe ------------------------------------------------------------------
# mirrors: one mmdebstrap MIRROR argument per line, from this machine's apt
# configuration: each deb822 .sources file (Types: deb) as a path, each
# one-line "deb ..." entry of sources.list(.d/*.list) as itself.
mirrors() {
	local f line found=0
	shopt -s nullglob
	for f in /etc/apt/sources.list.d/*.sources; do
		if grep -Eq '^Types:.*\bdeb\b' "$f"; then
			printf '%s\n' "$f"
			found=1
		fi
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -r "$f" ]] || continue
		while IFS= read -r line; do
			line="${line%%#*}"
			if [[ "$line" =~ ^[[:space:]]*deb[[:space:]] ]]; then
				printf '%s\n' "${line#"${line%%[![:space:]]*}"}"
				found=1
			fi
		done <"$f"
	done
	shopt -u nullglob
	((found)) || die "no apt source found in /etc/apt/sources.list or /etc/apt/sources.list.d/"
}

# recipe_text: everything the image is made of; its hash names the cache entry.
recipe_text() {
	local m
	printf 'suite %s\nsize %s\n' "$SUITE" "$IMAGE_SIZE"
	for f in packages customize.sh testhost.service testhost-boot; do
		printf '== %s\n' "$f"
		cat "$recipe/$f"
	done
	while IFS= read -r m; do
		printf '== mirror %s\n' "$m"
		[[ -f "$m" ]] && cat "$m"
	done < <(mirrors)
}

image_dir() {
	printf '%s/%s\n' "$CACHE" "$(recipe_text | sha256sum | cut -c1-16)"
}

cmd_build() {
	local dir tmp t0 pkgs m args=()
	dir="$(image_dir)"
	if [[ -s "$dir/rootfs.ext4" && -s "$dir/vmlinuz" && -s "$dir/initrd.img" ]]; then
		log "image up to date: $dir"
		return 0
	fi
	[[ $(id -u) -eq 0 ]] || die "build must run as root (mmdebstrap in root mode, mkfs.ext4 -d of a root-owned tree)"
	command -v mmdebstrap >/dev/null || {
		log "installing mmdebstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
	}
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	if [[ -s "$dir/rootfs.ext4" ]]; then
		log "image built meanwhile: $dir"
		return 0
	fi
	t0=$(date +%s)
	tmp="$(mktemp -d "$CACHE/.build.XXXXXX")"
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	pkgs="$(grep -Ev '^[[:space:]]*(#|$)' "$recipe/packages" | paste -sd, -)"
	while IFS= read -r m; do args+=("$m"); done < <(mirrors)
	log "building the image in $dir (mmdebstrap $SUITE, ${#args[@]} apt source(s) of this machine)"
	mmdebstrap --variant=apt --mode=root --quiet \
		--aptopt='APT::Install-Recommends "false"' \
		--include="$pkgs" \
		--customize-hook="$recipe/customize.sh \"\$1\"" \
		"$SUITE" "$tmp/root" "${args[@]}"
	cp "$(readlink -f "$tmp/root/vmlinuz")" "$tmp/vmlinuz"
	cp "$(readlink -f "$tmp/root/initrd.img")" "$tmp/initrd.img"
	log "mmdebstrap took $(($(date +%s) - t0)) s; making the ext4 image"
	mkfs.ext4 -q -F -L testhost -d "$tmp/root" "$tmp/rootfs.ext4" "$IMAGE_SIZE"
	rm -rf "$tmp/root"
	recipe_text >"$tmp/recipe.txt"
	mkdir -p "$dir"
	mv "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/recipe.txt" "$dir/"
	mv "$tmp/rootfs.ext4" "$dir/rootfs.ext4"
	rm -rf "$tmp"
	trap - EXIT
	log "image built in $(($(date +%s) - t0)) s: $dir"
}

# --- a run -----------------------------------------------------------------------
# seconds DUR: 90, 90s, 15m or 1h as seconds.
seconds() {
	[[ "$1" =~ ^([0-9]+)([smh]?)$ ]] || die "--timeout: want a duration like 900s, 15m or 1h, not '$1'"
	case "${BASH_REMATCH[2]}" in
	h) echo $((BASH_REMATCH[1] * 3600)) ;;
	m) echo $((BASH_REMATCH[1] * 60)) ;;
	*) echo $((BASH_REMATCH[1])) ;;
	esac
}

# The run: shared with boot.
kvm_inside=0 dir="" run="" qpid=""

# kvm_usable: /dev/kvm exists and opens read-write.
kvm_usable() {
	[[ -c /dev/kvm ]] && (exec 3<>/dev/kvm) 2>/dev/null
}

# boot ACCEL: start the VM in the background (qpid) on the run directory.
# Uses cmd_run's dir, run, smp and kvm_inside.
boot() {
	local cpu
	case "$1:$kvm_inside" in
	# Host CPU model (arch-capabilities off: nested KVM here cannot set that
	# MSR); topoext for SMT siblings on AMD.
	kvm:0) cpu="host,topoext=on,l3-cache=on,-arch-capabilities" ;;
	kvm:1) cpu="host,l3-cache=on,-arch-capabilities" ;;
	# TCG: the Intel vendor gives SMT siblings (AMD's would need topoext);
	# the AMD vendor of "max" gives nested SVM, so /dev/kvm inside.
	tcg:0) cpu="max,vendor=GenuineIntel,l3-cache=on" ;;
	tcg:1) cpu="max,l3-cache=on" ;;
	*) die "VSCHED_TESTHOST_ACCEL must be kvm or tcg, not '$1'" ;;
	esac
	cpu="${VSCHED_TESTHOST_CPU:-$cpu}"
	rm -f "$run/overlay.qcow2" "$run/console.log"
	qemu-img create -q -f qcow2 -F raw -b "$dir/rootfs.ext4" "$run/overlay.qcow2"
	log "booting: accel $1, -cpu $cpu, -smp $smp, 4 GiB, image $dir"
	qemu-system-x86_64 -name vsched-testhost -machine q35,accel="$1" -cpu "$cpu" -smp "$smp" \
		-m 4G \
		-object memory-backend-ram,id=m0,size=2G -numa node,nodeid=0,cpus=0-3,memdev=m0 \
		-object memory-backend-ram,id=m1,size=2G -numa node,nodeid=1,cpus=4-7,memdev=m1 \
		-kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=0" \
		-drive file="$run/overlay.qcow2",if=virtio,format=qcow2,cache=unsafe \
		-virtfs local,path="$run/in",mount_tag=in,security_model=none,id=in \
		-nic none -display none -serial file:"$run/console.log" -monitor none \
		-no-reboot 2> >(grep -v 'exceeds the recommended cpus' >&2) &
	qpid=$!
}

cmd_run() {
	local timeout=15m secs accel smp deb debs=() f qpid rc=0 t0 waited=0
	while (($#)); do
		case "$1" in
		--kvm-inside) kvm_inside=1 ;;
		--timeout) timeout="${2:?--timeout needs a value}"; shift ;;
		--timeout=*) timeout="${1#*=}" ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		-*) die "run: unknown option '$1' (see --help)" ;;
		*) break ;;
		esac
		shift
	done
	(($#)) || die "run: no FILE to run (see --help)"
	secs="$(seconds "$timeout")"
	for f in "$@"; do
		[[ -f "$f" ]] || die "run: $f is not a file"
	done
	shopt -s nullglob
	debs=("$repo"/dist/vsched_*_amd64.deb)
	shopt -u nullglob
	((${#debs[@]} == 1)) || die "run: want exactly one dist/vsched_*_amd64.deb (make package), found ${#debs[@]}"
	deb="${debs[0]}"
	command -v qemu-system-x86_64 >/dev/null || die "run: qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
	command -v qemu-img >/dev/null || die "run: qemu-img is missing (apt-get install qemu-utils)"
	cmd_build
	dir="$(image_dir)"

	accel="${VSCHED_TESTHOST_ACCEL:-}"
	if [[ -z "$accel" ]]; then
		accel=tcg
		if ((!kvm_inside)) && kvm_usable; then accel=kvm; fi
	fi
	if ((kvm_inside)); then smp="8,sockets=2,cores=4,threads=1"; else smp="8,sockets=2,cores=2,threads=2"; fi

	run="$(mktemp -d /var/tmp/vsched-testhost.XXXXXX)"
	if [[ "${VSCHED_TESTHOST_KEEP:-}" == 1 ]]; then
		log "keeping $run"
	else
		# shellcheck disable=SC2064 # expand now: run is local
		trap "rm -rf '$run'" EXIT
	fi
	mkdir -p "$run/in/.testhost/out"
	cp "$@" "$run/in/"
	basename "$1" >"$run/in/.testhost/first"
	cp "$recipe/inner.sh" "$run/in/.testhost/inner.sh"
	cp "$deb" "$run/in/.testhost/vsched.deb"
	: >"$run/in/.testhost/out/stdout"
	: >"$run/in/.testhost/out/stderr"

	t0=$(date +%s)
	boot "$accel"
	# A nested KVM that cannot run a Linux kernel (this machine kind: the
	# kernel stops after "Probing EDD", spinning in the host) is told by a
	# silent console; the boot starts over under TCG.
	while [[ "$accel" == kvm ]] && ! grep -q 'Linux version' "$run/console.log" 2>/dev/null; do
		if ((waited >= 20)) || ! kill -0 "$qpid" 2>/dev/null; then
			log "KVM does not boot the kernel here (no kernel output in ${waited} s): TCG instead"
			kill "$qpid" 2>/dev/null || true
			wait "$qpid" 2>/dev/null || true
			accel=tcg
			boot tcg
			break
		fi
		sleep 1
		waited=$((waited + 1))
	done
	# The script's output as it comes (the share is mounted with cache=none).
	tail -q -n +1 -F --pid="$qpid" "$run/in/.testhost/out/stdout" 2>/dev/null &
	tail -q -n +1 -F --pid="$qpid" "$run/in/.testhost/out/stderr" >&2 2>/dev/null &
	while kill -0 "$qpid" 2>/dev/null; do
		if ((waited >= secs)); then
			log "timed out after $timeout: stopping the VM; the console's last lines:"
			kill "$qpid" 2>/dev/null || true
			wait "$qpid" 2>/dev/null || true
			tail -n 40 "$run/console.log" >&2 || true
			wait
			exit 124
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$qpid" || rc=$?
	wait
	((rc == 0)) || log "qemu exited with status $rc"
	if [[ ! -s "$run/in/.testhost/out/rc" ]]; then
		log "the VM stopped without the script's status after $(($(date +%s) - t0)) s; setup log and the console's last lines:"
		cat "$run/in/.testhost/out/setup.log" >&2 2>/dev/null || true
		tail -n 60 "$run/console.log" >&2 || true
		exit 1
	fi
	rc="$(cat "$run/in/.testhost/out/rc")"
	log "$1 exited with status $rc; boot to power-off $(($(date +%s) - t0)) s ($(cat "$run/in/.testhost/out/times" 2>/dev/null || true))"
	exit "$rc"
}

(($#)) || {
	usage >&2
	exit 2
}
cmd="$1"
shift
case "$cmd" in
build) cmd_build ;;
run) cmd_run "$@" ;;
path)
	cmd_build
	image_dir
	;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
