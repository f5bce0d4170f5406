#!/bin/bash
# profile.sh: where a broker's CPU goes while it takes 1 GiB of 1 KiB produce
# (acks=1) and then serves 3 s of consume passes (bench/load consume), for skiff
# and for the peer (librdkafka's mock cluster). For each it prints the broker's
# CPU time, its system calls and the throughput (perf stat -p), and for skiff
# the call paths that cost most (perf record -g, kernel stacks; user frames are
# flat without frame pointers). Needs perf and root or perf_event_paranoid <= 1.
#
#   bench/profile.sh [BUILD_DIR]        (default: build)
set -euo pipefail

build=${1:-build}
load=$build/bench/load
work=$(mktemp -d "${TMPDIR:-/tmp}/skiff-profile-XXXXXX")
broker_pid=
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

start() {
    if [ "$1" = skiff ]; then
        local port
        port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        "$build/skiff" --listeners "PLAINTEXT://127.0.0.1:$port" --log.dirs "$work/data" \
            --num.partitions 4 2>"$work/skiff.log" &
        broker_pid=$!
        bootstrap=127.0.0.1:$port
        sleep 0.3
    else
        "$build/bench/mock_cluster" >"$work/mock.out" 2>"$work/mock.log" &
        broker_pid=$!
        while [ ! -s "$work/mock.out" ]; do sleep 0.05; done
        bootstrap=$(head -1 "$work/mock.out")
    fi
}

stop() {
    kill "$broker_pid"
    wait "$broker_pid" || true
    broker_pid=
    rm -rf "$work/data"
}

# measure KIND PHASE LOAD-ARGS...: runs one load command under perf stat -p
# (and perf record -g for skiff) and prints one summary line.
measure() {
    local kind=$1 phase=$2
    shift 2
    perf stat -e task-clock,raw_syscalls:sys_enter -p "$broker_pid" -o "$work/stat" &
    local stat_pid=$! record_pid=
    if [ "$kind" = skiff ]; then
        perf record -q -F 999 -g -p "$broker_pid" -o "$work/$phase.data" >/dev/null 2>&1 &
        record_pid=$!
    fi
    sleep 0.2
    local result
    result=$("$load" "$@" -b "$bootstrap" 2>>"$work/load.log" | grep -o '"mb_per_s":[0-9.e+]*')
    kill -INT "$stat_pid"
    wait "$stat_pid" || true
    if [ -n "$record_pid" ]; then
        kill -INT "$record_pid"
        wait "$record_pid" || true
    fi
    printf '%-6s %-8s %s broker_cpu_ms=%s syscalls=%s\n' "$kind" "$phase" "$result" \
        "$(awk '/task-clock/ {gsub(",", "", $1); print $1}' "$work/stat")" \
        "$(awk '/sys_enter/ {gsub(",", "", $1); print $1}' "$work/stat")"
}

for kind in skiff peer; do
    start "$kind"
    "$load" create -b "$bootstrap" -t p -p 4 >/dev/null 2>&1
    measure "$kind" produce produce -t p -s 1024 -a 1 -n 1048576
    "$load" consume -b "$bootstrap" -t c -s 1024 --fill-mb 16 -d 0.1 -X fetch.wait.max.ms=1 >/dev/null 2>&1
    measure "$kind" consume consume -t c -s 1024 --fill-mb 16 -d 3 -X fetch.wait.max.ms=1
    stop
done

for phase in produce consume; do
    echo
    echo "== skiff, $phase: system calls and functions by share of the broker's CPU samples (children included)"
    perf report -i "$work/$phase.data" --children --sort sym --stdio -g none 2>/dev/null |
        grep -E '\[k\] (__x64_sys_|handle_softirqs)|\[\.\] (__GI___|__libc_|epoll_wait|crc32c|sk_|evbuffer_|event_base_loop|__memmove)' |
        head -20
done
