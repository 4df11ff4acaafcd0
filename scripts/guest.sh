#!/usr/bin/env bash
# Make and manage vsched's tiny test guests: a 512-byte boot sector on a raw IDE disk,
# 16 MiB of RAM, that burns a CPU, idles, or runs a duty cycle. Images are made at run time.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: $(basename "$0") COMMAND [ARGS]

  start NAME --mode burn|idle|duty:B:S [--vcpus N] [--online IDS] [--pin CPULIST]
             [--cpuset CPULIST] [--persistent]
        make NAME's boot-sector image and start the domain (transient unless --persistent).
        burn:      vCPU0 spins with interrupts off (100% of one pCPU)
        idle:      vCPU0 halts (about 0%)
        duty:B:S:  vCPU0 spins for B BIOS ticks then halts for S ticks (18.2 ticks/s;
                   B in 1..127, S in 1..255; duty:1:1 is about 44%)
        Other vCPUs of an N-vCPU guest never start (they wait for an IPI): idle.
        --pin CPULIST     pins every vCPU to CPULIST with one <cputune><vcpupin> each, as
                          an operator's initial pin (vsched may move it), e.g. 0 or 0-1
        --cpuset CPULIST  <vcpu cpuset='CPULIST'>: the operator's range, where vsched may
                          pin the vCPUs; QEMU's other threads follow it too
        --online IDS      the vCPU ids online at start (e.g. 0 or 0,2; 0 first); the
                          others of --vcpus N are defined but unplugged and hotpluggable
                          ('virsh setvcpu NAME ID --enable --live' plugs one in; QEMU
                          refuses to unplug one: ejecting a CPU needs a guest OS's ACPI)
        Prints NAME on stdout once the domain runs. For the first ~2.5 s SeaBIOS keeps
        vCPU0 near 100% whatever the mode: wait ~3 s before judging CPU use.
  destroy NAME      stop NAME, undefine it if persistent, remove its image
  destroy-all       the same for every domain named ${VSCHED_PREFIX}*, and stray images
  list              names of our domains (prefix ${VSCHED_PREFIX}), one per line
  tids NAME         "VCPU TID" lines of a running guest (from /proc, thread "CPU N/KVM|TCG")
  measure NAME [SECONDS]
                    each vCPU thread's CPU use over SECONDS (default 1), from
                    /proc/PID/task/TID/schedstat: "VCPU TID PCT% last-cpu=N"
  virt-type [--why] print 'kvm' or 'qemu': whether KVM guests really run here (checked
                    once by starting a duty:1:1 probe guest and measuring its steady state
                    after SeaBIOS; cached in \$VSCHED_STATE_DIR/virt-type;
                    VSCHED_VIRT_TYPE=kvm|qemu overrides); --why adds the evidence

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

# domain_xml NAME TYPE VCPUS IMAGE PIN CPUSET ONLINE
#   PIN:    one <vcpupin> per online vCPU (the pin an operator set; may be empty)
#   CPUSET: <vcpu cpuset> (the operator's range; QEMU's other threads follow it; may be empty)
#   ONLINE: the vCPU ids online at start (e.g. 0,2), the others defined but unplugged and
#           hotpluggable (<vcpus> elements); empty: all VCPUS online, no <vcpus> element
domain_xml() {
	local name="$1" type="$2" vcpus="$3" img="$4" pin="${5:-}" cpuset="${6:-}" online="${7:-}"
	local attrs="" tune="" vlist="" i n=0 ids=()
	if [[ -n "$online" ]]; then
		IFS=, read -r -a ids <<<"$online"
	else
		for ((i = 0; i < vcpus; i++)); do ids+=("$i"); done
	fi
	[[ -n "$cpuset" ]] && attrs+=" cpuset='$cpuset'"
	if [[ -n "$online" ]]; then
		attrs+=" current='${#ids[@]}'"
		vlist="  <vcpus>"$'\n'
		for ((i = 0; i < vcpus; i++)); do
			if [[ ",$online," == *",$i,"* ]]; then
				n=$((n + 1))
				if ((i == 0)); then
					vlist+="    <vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>"$'\n'
				else
					vlist+="    <vcpu id='$i' enabled='yes' hotpluggable='yes' order='$n'/>"$'\n'
				fi
			else
				vlist+="    <vcpu id='$i' enabled='no' hotpluggable='yes'/>"$'\n'
			fi
		done
		vlist+="  </vcpus>"$'\n'
	fi
	if [[ -n "$pin" ]]; then
		tune="  <cputune>"$'\n'
		for i in "${ids[@]}"; do
			tune+="    <vcpupin vcpu='$i' cpuset='$pin'/>"$'\n'
		done
		tune+="  </cputune>"$'\n'
	fi
	cat <<EOF
<domain type='$type'>
  <name>$name</name>
  <description>vsched test guest (scripts/guest.sh)</description>
  <memory unit='MiB'>16</memory>
  <vcpu placement='static'$attrs>$vcpus</vcpu>
${vlist}${tune}  <os>
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

# start_domain NAME TYPE VCPUS IMAGE PIN CPUSET PERSISTENT ONLINE: define/create and wait
# until running.
start_domain() {
	local name="$1" type="$2" vcpus="$3" img="$4" pin="$5" cpuset="$6" persistent="$7" online="$8" xml out
	xml="$VSCHED_STATE_DIR/$name.xml"
	mkdir -p "$VSCHED_STATE_DIR"
	domain_xml "$name" "$type" "$vcpus" "$img" "$pin" "$cpuset" "$online" >"$xml"
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

# rate_pct TID PID SECONDS: the thread's CPU use over SECONDS, in percent of one CPU
# (schedstat run time over wall time).
rate_pct() {
	local tid="$1" pid="$2" secs="$3" r0 r1 t0 t1
	r0="$(run_ns "$tid" "$pid")" || return 1
	t0=$(date +%s%N)
	sleep "$secs"
	r1="$(run_ns "$tid" "$pid")" || return 1
	t1=$(date +%s%N)
	echo $((100 * (r1 - r0) / (t1 - t0)))
}

# virt_type: kvm when a KVM guest really runs here, else qemu (TCG). Cached.
# The probe judges the guest's steady state, not SeaBIOS: under nested KVM the BIOS keeps
# vCPU0 near 100% for seconds before the boot sector runs. A duty:1:1 boot sector then runs
# about 44%; so the probe waits until two consecutive 0.5 s readings are below 85% (the boot
# sector is running) and then measures 2 s, which must read 10-85%.
virt_type() {
	local cache="$VSCHED_STATE_DIR/virt-type" probe="${VSCHED_PREFIX}kvm-probe" img tid pid t pct
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
	local result=qemu why="" readings="" low=0 deadline
	if [[ ! -c /dev/kvm ]]; then
		why="/dev/kvm is missing"
	elif ! (exec 3<>/dev/kvm) 2>/dev/null; then
		why="/dev/kvm cannot be opened read-write"
	else
		t=$(now_ms)
		log "checking that a KVM guest really runs (probe guest $probe, duty:1:1, steady state after SeaBIOS)"
		destroy_one "$probe"
		img="$VSCHED_IMG_DIR/$probe.img"
		make_image "$img" duty:1:1
		if (start_domain "$probe" kvm 1 "$img" "" "" 0 "") 2>"$VSCHED_STATE_DIR/kvm-probe.err"; then
			pid="$(qemu_pid "$probe")"
			tid="$(vcpu_tids "$probe" | awk '$1 == 0 {print $2}')"
			deadline=$(($(now_ms) + 20000))
			while ((low < 2)) && (($(now_ms) < deadline)); do
				pct="$(rate_pct "$tid" "$pid" 0.5)" || break
				readings+="${readings:+ }$pct%"
				if ((pct < 85)); then low=$((low + 1)); else low=0; fi
			done
			if ! domain_running "$probe"; then
				why="the KVM probe guest stopped: $(virsh -c "$VSCHED_URI" domstate --reason "$probe" 2>&1 | head -n1)"
			elif ((low < 2)); then
				why="the KVM probe never left SeaBIOS in 20 s (0.5 s readings: $readings)"
			elif ! pct="$(rate_pct "$tid" "$pid" 2)"; then
				why="the KVM probe's vCPU thread vanished"
			elif ((pct < 10 || pct > 85)); then
				why="the KVM probe's duty:1:1 boot sector ran ${pct}% over 2 s in steady state (want about 44; boot readings: $readings)"
			else
				result=kvm
				why="a duty:1:1 KVM guest ran ${pct}% over 2 s in steady state, reached after $(($(now_ms) - t - 2000)) ms (0.5 s readings while booting: $readings)"
			fi
		else
			why="a KVM guest failed to start: $(tail -n1 "$VSCHED_STATE_DIR/kvm-probe.err")"
		fi
		destroy_one "$probe" 2>/dev/null
		log "KVM probe took $(($(now_ms) - t)) ms"
	fi
	log "virt type: $result ($why)"
	echo "$result" >"$cache"
	echo "$why" >"$cache.why"
	echo "$result"
}

# --- commands ----------------------------------------------------------------------
cmd_start() {
	local name="" mode="" vcpus=1 pin="" cpuset="" online="" persistent=0 type img t list id
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
		--cpuset) cpuset="${2:?--cpuset needs a value}"; shift ;;
		--cpuset=*) cpuset="${1#*=}" ;;
		--online) online="${2:?--online needs a value}"; shift ;;
		--online=*) online="${1#*=}" ;;
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
	for list in "--pin:$pin" "--cpuset:$cpuset"; do
		[[ -z "${list#*:}" || "${list#*:}" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] ||
			die "start: bad ${list%%:*} CPU list '${list#*:}'"
	done
	if [[ -n "$online" ]]; then
		[[ "$online" =~ ^0(,[1-9][0-9]*)*$ ]] ||
			die "start: --online must list vCPU ids starting with 0, comma-separated (e.g. 0,2), not '$online'"
		IFS=, read -r -a list <<<"$online"
		for id in "${list[@]}"; do
			((id < vcpus)) || die "start: --online names vCPU $id but --vcpus is $vcpus"
		done
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
	log "starting $name: $type, mode $mode, $vcpus vCPU(s)${online:+ (online: $online)}${pin:+, pinned to $pin}${cpuset:+, <vcpu cpuset=$cpuset>}$( ((persistent)) && echo ', persistent')"
	start_domain "$name" "$type" "$vcpus" "$img" "$pin" "$cpuset" "$persistent" "$online"
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
virt-type)
	require_root
	virt_type
	if [[ "${1:-}" == --why ]]; then
		cat "$VSCHED_STATE_DIR/virt-type.why" 2>/dev/null || echo "forced by VSCHED_VIRT_TYPE or cached without evidence"
	fi
	;;
*) usage >&2; die "unknown command '$cmd'" ;;
esac
