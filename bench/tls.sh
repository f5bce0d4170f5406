#!/bin/bash
# tls.sh: TLS against PLAINTEXT in the same run. One skiff serves a
# PLAINTEXT and an SSL listener (certificates from scripts/dev-certs.sh);
# bench/load (librdkafka) produces and consumes 1 KiB records over each,
# alternating PLAINTEXT and SSL in every round, so that a loaded machine
# slows both alike. Prints each round and the medians with the SSL/PLAINTEXT
# ratio; with --perf, also where the broker's CPU goes during one more SSL
# produce and consume (perf record -g, flat user frames).
#
#   bench/tls.sh [--rounds N] [--secs S] [--perf] [BUILD_DIR]   (default: 5 rounds of 5 s, build)
set -euo pipefail

rounds=5 secs=5 perf=0 build=build
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    --perf) perf=1; shift ;;
    *) build=$1; shift ;;
    esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
load=$build/bench/load
work=$(mktemp -d "${TMPDIR:-/tmp}/skiff-tls-XXXXXX")
broker_pid=
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$root/scripts/dev-certs.sh" "$work/certs" >/dev/null
"$build/skiff" --listeners PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0 --log.dirs "$work/data" \
    --ssl.keystore.location "$work/certs/server.pem" --skiff.http.listeners '' 2>"$work/skiff.log" &
broker_pid=$!
for _ in $(seq 100); do grep -q 'started:' "$work/skiff.log" && break; sleep 0.05; done
port() { sed -n "s/.*listening on 127.0.0.1:\([0-9]*\) ($1).*/\1/p" "$work/skiff.log"; }
plain=127.0.0.1:$(port PLAINTEXT)
tls=127.0.0.1:$(port SSL)
ssl_args=(-X security.protocol=SSL -X "ssl.ca.location=$work/certs/ca.pem")

# run PROTO PHASE: one load command; prints its MB/s, and with perf stat the
# broker's CPU milliseconds and system calls per MB moved (consume: measured
# after the topic is filled).
run() {
    local bootstrap=$plain args=() topic=$1-$2-$round mbs stat=
    if [ "$1" = ssl ]; then
        bootstrap=$tls
        args=("${ssl_args[@]}")
    fi
    if [ "$2" = consume ]; then
        "$load" consume -b "$bootstrap" -t "$topic" -s 1024 -d 0.1 --fill-mb 200 "${args[@]}" >/dev/null 2>&1
        args+=(-X fetch.wait.max.ms=1)
    fi
    if [ -n "$with_stat" ]; then
        perf stat -x, -e task-clock,raw_syscalls:sys_enter -p "$broker_pid" -o "$work/stat" &
        stat=$!
        sleep 0.1
    fi
    if [ "$2" = produce ]; then
        mbs=$("$load" produce -b "$bootstrap" -t "$topic" -s 1024 -d "$secs" -p 1 -a 1 "${args[@]}" 2>>"$work/load.log" |
            grep -o '"mb_per_s":[0-9.e+]*' | cut -d: -f2)
    else
        mbs=$("$load" consume -b "$bootstrap" -t "$topic" -s 1024 -d "$secs" "${args[@]}" 2>>"$work/load.log" |
            grep -o '"mb_per_s":[0-9.e+]*' | cut -d: -f2)
    fi
    if [ -n "$stat" ]; then
        kill -INT "$stat"
        wait "$stat" || true
        awk -F, -v mb="$(echo "$mbs * $secs" | bc -l)" -v mbs="$mbs" '
            /task-clock/ {cpu = $1} /sys_enter/ {sc = $1}
            END {printf "%s %.2f %.0f\n", mbs, cpu / mb, sc / mb}' "$work/stat"
    else
        echo "$mbs"
    fi
}
with_stat=
command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1 && with_stat=1

declare -A got cpus scs
for round in $(seq "$rounds"); do
    for phase in produce consume; do
        for proto in plain ssl; do
            read -r v cpu sc <<<"$(run $proto $phase)"
            got[$proto-$phase]+="$v "
            cpus[$proto-$phase]+="${cpu:-} "
            scs[$proto-$phase]+="${sc:-} "
            printf 'round %d %-7s %-5s %8.1f MB/s  broker %s CPU ms/MB, %s syscalls/MB\n' "$round" "$phase" \
                "$proto" "$v" "${cpu:--}" "${sc:--}"
        done
    done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
printf '%-26s %10s %10s %10s\n' "median of $rounds" PLAINTEXT SSL SSL/PLAIN
for phase in produce consume; do
    for what in got:MB/s cpus:CPU-ms/MB scs:syscalls/MB; do
        declare -n col=${what%%:*}
        p=$(echo "${col[plain-$phase]}" | median)
        s=$(echo "${col[ssl-$phase]}" | median)
        [ -n "$p" ] && [ -n "$s" ] || continue
        printf '%-26s %10.2f %10.2f %9.2fx\n' "$phase ${what#*:}" "$p" "$s" "$(echo "$s / $p" | bc -l)"
    done
done

# Full handshakes (no resumption) per second of wall time, openssl s_time as the client.
hs=$(openssl s_time -connect "$tls" -new -time 3 -CAfile "$work/certs/ca.pem" 2>/dev/null |
    sed -n 's/^\([0-9]*\) connections in \([0-9.]*\) real seconds.*/\1 \2/p' | head -1)
[ -n "$hs" ] && printf '%-26s %10s %10.0f\n' "TLS handshakes/s" "" "$(echo "$hs" | awk '{print $1 / $2}')"

if [ "$perf" = 1 ]; then
    for phase in produce consume; do
        round=perf
        perf record -q -F 999 -g -p "$broker_pid" -o "$work/$phase.data" >/dev/null 2>&1 &
        rec=$!
        sleep 0.2
        with_stat='' run ssl $phase >/dev/null
        kill -INT $rec
        wait $rec || true
        echo
        echo "== SSL $phase: functions by share of the broker's CPU samples (self)"
        perf report -i "$work/$phase.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
            grep -E '^ +[0-9]' | head -25 || true
        echo "== by library"
        perf report -i "$work/$phase.data" --no-children --sort dso --stdio -g none 2>/dev/null |
            grep -E '^ +[0-9]' | head -6 || true
    done
fi
