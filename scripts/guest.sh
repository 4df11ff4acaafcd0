#!/usr/bin/env bash
# Make and manage vsched's tiny test guests: a 512-byte boot sector on a raw IDE disk,
# 16 MiB of RAM, that burns a CPU, idles, or runs a duty cycle. Images are made at run time.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: $(basename "$0") COMMAND [ARGS]

  start NAME --mode burn|idle|duty:B:S [--vcpus N] [--pin CPULIST] [--persistent]
        make NAME's boot-sector image and start the domain (transient unless --persistent).
        burn:      vCPU0 spins with interrupts off (100% of one pCPU)
        idle:      vCPU0 halts (about 0%)
        duty:B:S:  vCPU0 spins for B BIOS ticks then halts for S ticks (18.2 ticks/s;
                   B in 1..127, S in 1..255; duty:1:1 is about 44%)
        Other vCPUs of an N-vCPU guest never start (they wait for an IPI): idle.
        --pin CPULIST  pins every vCPU to CPULIST (<vcpu cpuset> and one <vcpupin>
                       each; QEMU's other threads follow <vcpu cpuset>), e.g. 0 or 0-1 or 0,2
        Prints NAME on stdout once the domain runs. For the first ~2.5 s SeaBIOS keeps
        vCPU0 near 100% whatever the mode: wait ~3 s before judging CPU use.
  destroy NAME      stop NAME, undefine it if persistent, remove its image
  destroy-all       the same for every domain named ${VSCHED_PREFIX}*, and stray images
  list              names of our domains (prefix ${VSCHED_PREFIX}), one per line
  tids NAME         "VCPU TID" lines of a running guest (from /proc, thread "CPU N/KVM|TCG")
  measure NAME [SECONDS]
                    each vCPU thread's CPU use over SECONDS (default 1), from
                    /proc/PID/task/TID/schedstat: "VCPU TID PCT% last-cpu=N"
  virt-type         print 'kvm' or 'qemu': whether KVM guests really run here (checked
                    once by starting a probe guest, cached in \$VSCHED_STATE_DIR/virt-type;
                    VSCHED_VIRT_TYPE=kvm|qemu overrides)

NAME must start with '${VSCHED_PREFIX}'. Needs root and a running libvirtd (host-up.sh).
Environment: VSCHED_URI=$VSCHED_URI VSCHED_IMG_DIR=$VSCHED_IMG_DIR
EOF
}

# --- boot sectors ------------------------------------------------------------------
# code_for MODE: the machine code (hex bytes, space-separated) of a boot sector.
code_for() {
	local mode="$1" b s
	case "$mode" in
	burn) echo "FA EB FE" ;;    # cli; jmp $
	idle) echo "FA F4 EB FD" ;; # cli; hlt; jmp back to hlt
	duty:*)
		[[ "$mode" =~ ^duty:([0-9]+):([0-9]+)$ ]] || die "bad mode '$mode': want duty:B:S"
		b=$((10#${BASH_REMATCH[1]}))
		s=$((10#${BASH_REMATCH[2]}))
		((b >= 1 && b <= 127)) || die "duty busy ticks B=$b must be in 1..127"
		((s >= 1 && s <= 255)) || die "duty halt ticks S=$s must be in 1..255"
		# sti; xor ax,ax; mov ds,ax; mov bx,[046C]; mov ax,[046C]; sub ax,bx; cmp ax,B;
		# jb -10; mov cx,S; hlt; loop -3; jmp -22
		printf 'FB 31 C0 8E D8 8B 1E 6C 04 A1 6C 04 29 D8 83 F8 %02X 72 F6 B9 %02X 00 F4 E2 FD EB EA\n' "$b" "$s"
		;;
	*) die "unknown mode '$mode': want burn, idle or duty:B:S" ;;
	esac
}

# make_image FILE MODE: 512 bytes: the code, zeros, 55 AA at offset 510.
make_image() {
	local file="$1" code x n=0
	code="$(code_for "$2")"
	{
		for x in $code; do
			# shellcheck disable=SC2059 # the format is the escape \xHH itself
			printf "\\x$x"
			n=$((n + 1))
		done
		dd if=/dev/zero bs=1 count=$((510 - n)) status=none
		printf '\x55\xAA'
	} >"$file.tmp"
	[[ "$(stat -c %s "$file.tmp")" == 512 ]] || die "image $file.tmp is not 512 bytes"
	mv "$file.tmp" "$file"
	chmod 644 "$file"
}

# domain_xml NAME TYPE VCPUS IMAGE [CPULIST]
domain_xml() {
	local name="$1" type="$2" vcpus="$3" img="$4" pin="${5:-}" cpuset="" tune="" i
	if [[ -n "$pin" ]]; then
		cpuset=" cpuset='$pin'"
		tune="  <cputune>"$'\n'
		for ((i = 0; i < vcpus; i++)); do
			tune+="    <vcpupin vcpu='$i' cpuset='$pin'/>"$'\n'
		done
		tune+="  </cputune>"$'\n'
	fi
	cat <<EOF
<domain type='$type'>
  <name>$name</name>
  <description>vsched test guest (scripts/guest.sh)</description>
  <memory unit='MiB'>16</memory>
  <vcpu placement='static'$cpuset>$vcpus</vcpu>
${tune}  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
    <bootmenu enable='no'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$img'/>
      <target dev='hda' bus='ide'/>
      <shareable/>
    </disk>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

need_libvirt() {
	libvirt_ready || die "libvirtd does not answer on $VSCHED_URI; run scripts/host-up.sh first"
}

# run_ns TID PID: cumulative run time (ns) of a thread, from schedstat.
run_ns() {
	local v
	read -r v _ <"/proc/$2/task/$1/schedstat" || return 1
	printf '%s\n' "$v"
}

# domain_running NAME
domain_running() {
	[[ "$(virsh -c "$VSCHED_URI" domstate "$1" 2>/dev/null | head -n1)" == running ]]
}

# start_domain NAME TYPE VCPUS IMAGE CPULIST PERSISTENT: define/create and wait until running.
start_domain() {
	local name="$1" type="$2" vcpus="$3" img="$4" pin="$5" persistent="$6" xml out
	xml="$VSCHED_STATE_DIR/$name.xml"
	mkdir -p "$VSCHED_STATE_DIR"
	domain_xml "$name" "$type" "$vcpus" "$img" "$pin" >"$xml"
	if ((persistent)); then
		out="$(virsh -c "$VSCHED_URI" define "$xml" 2>&1)" || die "virsh define $name failed: $out"
		out="$(virsh -c "$VSCHED_URI" start "$name" 2>&1)" || {
			virsh -c "$VSCHED_URI" undefine "$name" >/dev/null 2>&1 || true
			die "virsh start $name failed: $out"
		}
	else
		out="$(virsh -c "$VSCHED_URI" create "$xml" 2>&1)" || die "virsh create $name failed: $out"
	fi
	wait_for "$VSCHED_TIMEOUT" "$name to run" domain_running "$name"
	wait_for "$VSCHED_TIMEOUT" "$name's vCPU threads" vcpu_tids "$name"
}

# destroy_one NAME: stop, undefine, remove image; quiet if it does not exist.
destroy_one() {
	local name="$1" out info
	# Capture first: 'virsh ... | grep -q' can fail under pipefail (SIGPIPE).
	if info="$(virsh -c "$VSCHED_URI" dominfo "$name" 2>/dev/null)"; then
		if [[ "$info" =~ State:\ *(running|paused|in\ shutdown|pmsuspended) ]]; then
			out="$(virsh -c "$VSCHED_URI" destroy "$name" 2>&1)" || die "virsh destroy $name failed: $out"
		fi
		if [[ "$info" =~ Persistent:\ *yes ]]; then
			out="$(virsh -c "$VSCHED_URI" undefine "$name" 2>&1)" || die "virsh undefine $name failed: $out"
		fi
		log "destroyed $name"
	fi
	rm -f "$VSCHED_IMG_DIR/$name.img" "$VSCHED_STATE_DIR/$name.xml"
}

# virt_type: kvm when a KVM guest really runs here, else qemu (TCG). Cached.
virt_type() {
	local cache="$VSCHED_STATE_DIR/virt-type" probe="${VSCHED_PREFIX}kvm-probe" img tid pid r0 r1 t
	if [[ -n "${VSCHED_VIRT_TYPE:-}" ]]; then
		[[ "$VSCHED_VIRT_TYPE" == kvm || "$VSCHED_VIRT_TYPE" == qemu ]] ||
			die "VSCHED_VIRT_TYPE must be kvm or qemu, not '$VSCHED_VIRT_TYPE'"
		echo "$VSCHED_VIRT_TYPE"
		return
	fi
	if [[ -s "$cache" ]]; then
		cat "$cache"
		return
	fi
	need_libvirt
	mkdir -p "$VSCHED_STATE_DIR" "$VSCHED_IMG_DIR"
	local result=qemu why
	if [[ ! -c /dev/kvm ]]; then
		why="/dev/kvm is missing"
	elif ! (exec 3<>/dev/kvm) 2>/dev/null; then
		why="/dev/kvm cannot be opened read-write"
	else
		t=$(now_ms)
		log "checking that a KVM guest really runs (probe guest $probe, 1 s)"
		destroy_one "$probe"
		img="$VSCHED_IMG_DIR/$probe.img"
		make_image "$img" duty:1:1
		if (start_domain "$probe" kvm 1 "$img" "" 0) 2>"$VSCHED_STATE_DIR/kvm-probe.err"; then
			pid="$(qemu_pid "$probe")"
			tid="$(vcpu_tids "$probe" | awk '$1 == 0 {print $2}')"
			r0="$(run_ns "$tid" "$pid")"
			sleep 1
			r1="$(run_ns "$tid" "$pid" || echo "$r0")"
			if ! domain_running "$probe"; then
				why="the KVM probe guest stopped: $(virsh -c "$VSCHED_URI" domstate --reason "$probe" 2>&1 | head -n1)"
			elif ((r1 - r0 < 100000000)); then
				why="the KVM probe's vCPU ran only $(((r1 - r0) / 1000000)) ms in 1 s (want about 440)"
			else
				result=kvm
				why="a duty:1:1 KVM guest ran $(((r1 - r0) / 1000000)) ms in 1 s"
			fi
		else
			why="a KVM guest failed to start: $(tail -n1 "$VSCHED_STATE_DIR/kvm-probe.err")"
		fi
		destroy_one "$probe" 2>/dev/null
		log "KVM probe took $(($(now_ms) - t)) ms"
	fi
	log "virt type: $result ($why)"
	echo "$result" >"$cache"
	echo "$result"
}

# --- commands ----------------------------------------------------------------------
cmd_start() {
	local name="" mode="" vcpus=1 pin="" persistent=0 type img t
	(($#)) || die "start: NAME missing (see --help)"
	name="$1"
	shift
	while (($#)); do
		case "$1" in
		--mode) mode="${2:?--mode needs a value}"; shift ;;
		--mode=*) mode="${1#*=}" ;;
		--vcpus) vcpus="${2:?--vcpus needs a value}"; shift ;;
		--vcpus=*) vcpus="${1#*=}" ;;
		--pin) pin="${2:?--pin needs a value}"; shift ;;
		--pin=*) pin="${1#*=}" ;;
		--persistent) persistent=1 ;;
		-h | --help) usage; exit 0 ;;
		*) die "start: unknown argument '$1' (see --help)" ;;
		esac
		shift
	done
	check_guest_name "$name"
	[[ -n "$mode" ]] || die "start: --mode burn|idle|duty:B:S is required"
	code_for "$mode" >/dev/null
	if ! [[ "$vcpus" =~ ^[1-9][0-9]*$ ]] || ((vcpus > 64)); then
		die "start: --vcpus must be 1..64, not '$vcpus'"
	fi
	if [[ -n "$pin" ]]; then
		[[ "$pin" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || die "start: bad --pin CPU list '$pin'"
	fi
	need_libvirt
	if virsh -c "$VSCHED_URI" dominfo "$name" >/dev/null 2>&1; then
		die "start: a domain named $name already exists (guest.sh destroy $name first)"
	fi
	type="$(virt_type)"
	t=$(now_ms)
	mkdir -p "$VSCHED_IMG_DIR"
	img="$VSCHED_IMG_DIR/$name.img"
	make_image "$img" "$mode"
	log "starting $name: $type, mode $mode, $vcpus vCPU(s)${pin:+, pinned to $pin}$( ((persistent)) && echo ', persistent')"
	start_domain "$name" "$type" "$vcpus" "$img" "$pin" "$persistent"
	log "$name running (id $(virsh -c "$VSCHED_URI" domid "$name" 2>/dev/null | head -n1), qemu pid $(qemu_pid "$name"), vCPU tids $(vcpu_tids "$name" | awk '{printf "%s%s", sep, $2; sep=","}')) in $(($(now_ms) - t)) ms"
	printf '%s\n' "$name"
}

cmd_measure() {
	local name="$1" secs="${2:-1}" pid line v tid t0 t1 lines=() before=() after=()
	check_guest_name "$name"
	[[ "$secs" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "measure: SECONDS must be a number, not '$secs'"
	pid="$(qemu_pid "$name")" || die "measure: $name is not running"
	mapfile -t lines < <(vcpu_tids "$name")
	t0=$(date +%s%N)
	for line in "${lines[@]}"; do
		before+=("$(run_ns "${line#* }" "$pid")")
	done
	sleep "$secs"
	t1=$(date +%s%N)
	for line in "${lines[@]}"; do
		after+=("$(run_ns "${line#* }" "$pid")")
	done
	for v in "${!lines[@]}"; do
		tid="${lines[$v]#* }"
		awk -v vc="${lines[$v]% *}" -v tid="$tid" -v d="$((after[v] - before[v]))" -v el="$((t1 - t0))" \
			-v cpu="$(awk '{sub(/.*\) /, ""); print $37}' "/proc/$pid/task/$tid/stat" 2>/dev/null)" \
			'BEGIN { printf "%s %s %.1f%% last-cpu=%s\n", vc, tid, 100 * d / el, cpu }'
	done
}

(($#)) || { usage >&2; exit 2; }
cmd="$1"
shift
case "$cmd" in
-h | --help | help) usage ;;
start) require_root; cmd_start "$@" ;;
destroy)
	require_root
	(($# == 1)) || die "usage: guest.sh destroy NAME"
	check_guest_name "$1"
	need_libvirt
	destroy_one "$1"
	;;
destroy-all)
	require_root
	need_libvirt
	# In parallel: 'virsh destroy' takes about 2 s per guest here.
	mapfile -t doms < <(our_domains)
	pids=()
	for d in "${doms[@]}"; do
		destroy_one "$d" &
		pids+=("$!")
	done
	failed=0
	for p in "${pids[@]}"; do
		wait "$p" || failed=$((failed + 1))
	done
	((failed == 0)) || die "destroy-all: $failed of ${#doms[@]} domain(s) could not be removed (see above)"
	n=${#doms[@]}
	# Images left behind by guests that no longer exist.
	shopt -s nullglob
	for f in "$VSCHED_IMG_DIR/$VSCHED_PREFIX"*.img "$VSCHED_IMG_DIR/$VSCHED_PREFIX"*.img.tmp \
		"$VSCHED_STATE_DIR/$VSCHED_PREFIX"*.xml; do
		log "removing stray $f"
		rm -f "$f"
	done
	log "destroy-all: $n domain(s) with prefix $VSCHED_PREFIX removed"
	;;
list) need_libvirt; our_domains ;;
tids)
	(($# == 1)) || die "usage: guest.sh tids NAME"
	check_guest_name "$1"
	vcpu_tids "$1" || die "$1 is not running"
	;;
measure)
	(($# >= 1 && $# <= 2)) || die "usage: guest.sh measure NAME [SECONDS]"
	cmd_measure "$@"
	;;
virt-type) require_root; virt_type ;;
*) usage >&2; die "unknown command '$cmd'" ;;
esac
