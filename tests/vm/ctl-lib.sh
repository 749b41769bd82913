# SPDX-License-Identifier: GPL-2.0
# Helpers for the v4l2loopback-ctl cases (30-ctl, 34-ctl-image-access); sourced
# after lib.sh. Sets CTL (the tool), P (its name in messages), W (a scratch
# directory) and exits the case when the tool has not been built.
# shellcheck shell=bash

CTL=$LB_BUILD/v4l2loopback-ctl
P="v4l2loopback-ctl"
W=$(mktemp -d /tmp/ctl.XXXXXX)
# shellcheck disable=SC2034 # used by the cases that source this file
NOT_OURS="not a v4l2loopback device: see v4l2loopback-ctl list"
# shellcheck disable=SC2034 # used by the cases that source this file
DENIED="$P: /dev/v4l2loopback: open: permission denied: run as root or add yourself to group video"

if [ ! -x "$CTL" ]; then
	fail ctl-built "$CTL missing: build it with 'make tools'"
	exit 0
fi

# ctl_as NAME WANT_RC WANT_STDOUT WANT_STDERR [PREFIX... --] ARGS...
# Runs the tool (behind PREFIX, e.g. setpriv ...), compares exit status, stdout
# and stderr exactly ("-": do not compare; trailing newlines are stripped).
# Leaves the results in CTL_OUT, CTL_ERR, CTL_RC.
ctl_as() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4
	shift 4
	local who=() a out err rc=0 errs=()
	for a in "$@"; do
		if [ "$a" = -- ]; then
			while [ "$1" != -- ]; do who+=("$1"); shift; done
			shift
			break
		fi
	done
	out=$("${who[@]}" "$CTL" "$@" 2>"$W/stderr") || rc=$?
	err=$(cat "$W/stderr")
	echo "+ [${SECONDS}s] ${who[*]:+${who[*]} }$P $* -> $rc"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/  1| /'
	[ -n "$err" ] && printf '%s\n' "$err" | sed 's/^/  2| /'
	[ "$rc" = "$want_rc" ] || errs+=("exit status: expected $want_rc, got $rc")
	if [ "$want_out" != "-" ] && [ "$out" != "$want_out" ]; then
		errs+=("stdout: expected '$want_out', got '$out'")
	fi
	if [ "$want_err" != "-" ] && [ "$err" != "$want_err" ]; then
		errs+=("stderr: expected '$want_err', got '$err'")
	fi
	if [ ${#errs[@]} -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "${who[*]:+as ${who[*]}: }$P $*: $(IFS=';'; echo "${errs[*]}")"
	fi
	# shellcheck disable=SC2034 # results for the calling case
	CTL_OUT=$out
	# shellcheck disable=SC2034 # results for the calling case
	CTL_ERR=$err
	# shellcheck disable=SC2034 # results for the calling case
	CTL_RC=$rc
	return 0
}

# ctl NAME WANT_RC WANT_STDOUT WANT_STDERR ARGS...: ctl_as as root.
ctl() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4
	shift 4
	ctl_as "$name" "$want_rc" "$want_out" "$want_err" -- "$@"
}

# usage_err NAME VERB MESSAGE ARGS...: a usage error: exit 2, nothing on
# stdout, "v4l2loopback-ctl VERB: MESSAGE" and the "Try" line on stderr.
usage_err() {
	local name=$1 verb=$2 msg=$3
	shift 3
	ctl "$name" 2 "" "$P $verb: $msg
Try '$P help $verb'." "$@"
}

# query_text NR NAME MINW MAXW MINH MAXH BUFFERS OPENERS EXCL: `query`'s text.
query_text() {
	printf '/dev/video%s:\n' "$1"
	printf '  %-16s%s\n' name "$2" width "$3..$4" height "$5..$6" buffers "$7" \
		"max openers" "$8" "exclusive caps" "$9" debug 0
}

# table: stdin = tab-separated rows (header first); prints them the way the
# tool lays out tables (columns padded to the widest cell + 2, no trailing
# blanks).
table() {
	awk -F'\t' '
		{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
		  if (NF > nf) nf = NF }
		END { for (r = 1; r <= NR; r++) { line = ""
			for (i = 1; i <= nf; i++) { line = line c[r, i]
				if (i < nf) line = line sprintf("%" (w[i] - length(c[r, i]) + 2) "s", "") }
			sub(/ +$/, "", line); print line } }'
}

# nodes_same NAME BEFORE: the set of video nodes is still BEFORE.
nodes_same() {
	local now
	now=$(video_nodes)
	if [ "$now" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "video nodes changed: before [$(lb_words "$2")] after [$(lb_words "$now")]"
	fi
}

# load_vivid: one vivid video capture node; prints its number.
load_vivid() {
	local cam
	modprobe vivid n_devs=1 node_types=0x1 >/dev/null 2>&1 || return 1
	cam=$(vivid_node "$(lb_scaled 100)") || return 1
	echo "${cam#/dev/video}"
}
