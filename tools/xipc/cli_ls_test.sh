#!/bin/sh
# End-to-end tests of `xipc ls`, `xipc pub` and `xipc sub`.
#   sh cli_ls_test.sh PATH/TO/xipc
# Every endpoint name contains "clils<pid>" so parallel runs never meet;
# background processes are killed on exit, and the test fails if anything
# of ours is left in /dev/shm or listed by `xipc ls`.
set -u

XIPC=${1:?usage: cli_ls_test.sh PATH/TO/xipc}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup clils xipc_cli_ls
cli_run32 "$XIPC"
XIPC=$R32
W_TAIL=$R32_TAIL
UID_NOW=$(id -u)

# Every run of xipc is bounded (cli_guard). `timeout` stands between us and
# a background xipc, so the xipc's own pid comes from its -w line.
GUARD=$(cli_guard 10)
GUARD_BG=$(cli_guard 40)

# expect_text WHAT FILE TEXT: FILE holds exactly TEXT and a newline
expect_text() {
    printf '%s\n' "$3" >"$TMP/want_text"
    if cmp -s "$2" "$TMP/want_text"; then ok; else
        fail "$1: got '$(cat "$2")', want '$3'"
    fi
}

# wait_line FILE CMD: wait for the -w line of xipc CMD in FILE (recv:
# listening, pub: publishing, sub: subscribed); its pid goes to XPID
wait_line() {
    i=0
    while ! grep -q "^$2: pid [0-9]*, pointer width [0-9]*$W_TAIL\$" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 1000 ]; then
            fail "xipc $2 did not start: $(cat "$1")"
            XPID=0
            return 1
        fi
        sleep 0.01
    done
    XPID=$(sed -n "s/^$2: pid \([0-9]*\), .*/\1/p" "$1")
    return 0
}

# bg OUT CMD ARGS...: `xipc CMD -w ARGS...` in the background, output in
# OUT.out and OUT.err; returns once CMD has printed its -w line, with the
# xipc's pid in XPID and the pid to wait for in BPID.
bg() {
    out=$1
    cmd=$2
    shift 2
    $GUARD_BG "$XIPC" "$cmd" -w "$@" </dev/null >"$out.out" 2>"$out.err" &
    BPID=$!
    BG="$BG $BPID"
    wait_line "$out.err" "$cmd"
}

# ls_ours: `xipc ls`, our lines in $TMP/ls (sets RC)
ls_ours() {
    run ls
    grep "$TAG" "$TMP/out" >"$TMP/ls"
}

# expect_ls WHAT URL KIND PID ALIVE: exactly one such line in $TMP/ls
expect_ls() {
    n=$(grep -Ec "^$2 +$3 +$4 +$5\$" "$TMP/ls")
    if [ "$n" -eq 1 ]; then ok; else
        fail "$1: want one line '$2 $3 $4 $5' in:"
        cat "$TMP/ls" >&2
    fi
}

# expect_lines WHAT N: $TMP/ls has N lines
expect_lines() {
    n=$(wc -l <"$TMP/ls")
    if [ "$n" -eq "$2" ]; then ok; else
        fail "$1: $n lines of ours listed, want $2:"
        cat "$TMP/ls" >&2
    fi
}

# ---- the listing's form ---------------------------------------------------

run ls
expect_rc "xipc ls" 0
if head -n 1 "$TMP/out" | grep -Eq '^URL +KIND +PID +ALIVE$'; then ok; else
    fail "xipc ls: header is '$(head -n 1 "$TMP/out")'"; fi
if grep -q "$TAG" "$TMP/out"; then fail "xipc ls lists ours before we start"; else ok; fi
run ls --json
expect_rc "xipc ls --json" 0
if command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import json, sys; assert isinstance(json.load(sys.stdin), list)' \
        <"$TMP/out"; then ok; else fail "xipc ls --json: not a JSON array"; fi
fi

# ---- one live endpoint of each kind ------------------------------------------

S="shm://$TAG.shm"
P="pipe://$TAG.pipe"
M="mailslot://$TAG.ms"
Q="mq://$TAG.mq"
B="pubsub://$TAG.pub"
# a publisher that stays up: it waits 60 s for subscribers before publishing
bg "$TMP/shm" recv "$S" && SPID=$XPID && SB=$BPID
bg "$TMP/pipe" recv "$P" && PIPID=$XPID && PB=$BPID
bg "$TMP/ms" recv "$M" && MPID=$XPID && MB=$BPID
bg "$TMP/mq" recv "$Q" && QPID=$XPID && QB=$BPID
bg "$TMP/pub" pub --wait-subscribers 60000 "$B" never && BPID_=$XPID && BB=$BPID
if [ "$FAILS" -ne 0 ]; then exit 1; fi

ls_ours
expect_rc "xipc ls with five endpoints" 0
expect_ls "live shm" "$S" "shm listener" "$SPID" yes
expect_ls "live pipe" "$P" "pipe" "$PIPID" yes
expect_ls "live mailslot" "$M" "mailslot server" "$MPID" yes
expect_ls "live mq" "$Q" "mq" "$QPID" yes
expect_ls "live pubsub" "$B" "pubsub" "$BPID_" yes
expect_lines "five live endpoints" 5

run ls --json
if command -v python3 >/dev/null 2>&1; then
    if python3 - "$TMP/out" "$TAG" "$SPID" "$PIPID" "$MPID" "$QPID" "$BPID_" <<'EOF'
import json, sys
path, tag, s, p, m, q, b = sys.argv[1:]
with open(path) as f:
    ours = sorted((e["url"], e["kind"], e["pid"], e["alive"])
                  for e in json.load(f) if tag in e["url"])
want = sorted([
    ("shm://%s.shm" % tag, "shm listener", int(s), True),
    ("pipe://%s.pipe" % tag, "pipe", int(p), True),
    ("mailslot://%s.ms" % tag, "mailslot server", int(m), True),
    ("mq://%s.mq" % tag, "mq", int(q), True),
    ("pubsub://%s.pub" % tag, "pubsub", int(b), True)])
if ours != want:
    sys.exit("got %r\nwant %r" % (ours, want))
EOF
    then ok; else fail "xipc ls --json: wrong entries"; fi
fi

# ---- killed with SIGKILL: listed dead, then reclaimed ----------------------

kill -9 "$SPID" "$PIPID" "$MPID" "$QPID" "$BPID_"
for p in $SB $PB $MB $QB $BB; do reap "$p"; done
# shm:// listens on a socket in the per-user runtime folder
if [ -S "$(cli_rundir)/shm/$TAG.shm" ]; then ok; else
    fail "a listener killed with SIGKILL left no socket file"; fi
ls_ours
expect_ls "dead shm" "$S" "shm listener" "$SPID" no
expect_ls "dead pipe" "$P" "pipe" "$PIPID" no
expect_ls "dead mailslot" "$M" "mailslot server" "$MPID" no
expect_ls "dead mq" "$Q" "mq" "$QPID" no
expect_ls "dead pubsub" "$B" "pubsub" "$BPID_" no
expect_lines "five dead endpoints" 5

# the next listener of each name takes it over; each then gets a message
# (send works with every scheme, recv reads mailslot:// as a server)
bg "$TMP/shm2" recv -n 1 "$S" && SPID=$XPID && SB=$BPID
bg "$TMP/pipe2" recv -n 1 "$P" && PIPID=$XPID && PB=$BPID
bg "$TMP/ms2" recv -n 1 "$M" && MPID=$XPID && MB=$BPID
bg "$TMP/mq2" recv -n 1 "$Q" && QPID=$XPID && QB=$BPID
bg "$TMP/pub2" pub --wait-subscribers 60000 "$B" never && BPID_=$XPID && BB=$BPID
ls_ours
expect_ls "reclaimed shm" "$S" "shm listener" "$SPID" yes
expect_ls "reclaimed pipe" "$P" "pipe" "$PIPID" yes
expect_ls "reclaimed mailslot" "$M" "mailslot server" "$MPID" yes
expect_ls "reclaimed mq" "$Q" "mq" "$QPID" yes
expect_ls "reclaimed pubsub" "$B" "pubsub" "$BPID_" yes
expect_lines "five reclaimed endpoints" 5

for pair in "$S $SB shm2" "$P $PB pipe2" "$M $MB ms2" "$Q $QB mq2"; do
    set -- $pair
    run send "$1" "hello $1"
    expect_rc "send $1" 0
    reap "$2"
    expect_rc "recv -n 1 $1" 0
    expect_text "recv $1" "$TMP/$3.out" "hello $1"
done
kill -TERM "$BB"
reap "$BB"
expect_rc "pub stopped by SIGTERM" 143
ls_ours
expect_lines "all closed" 0

# ---- garbage under our names: ignored or listed dead; left alone -----------

# /dev/shm holds no endpoint of ours any more: a segment under a name of
# ours there is not listed, and not touched
G="/dev/shm/xipc.$UID_NOW.$TAG.junk#pub"
head -c 4096 /dev/urandom >"$G" && chmod 600 "$G"
cp "$G" "$TMP/junk"
ls_ours
expect_rc "xipc ls with a garbage segment" 0
expect_lines "a garbage segment is no endpoint" 0
expect_file "the garbage segment is unchanged" "$G" "$TMP/junk"
rm -f "$G"
# a plain file where a publisher's socket belongs: not listed either
mkdir -p "$(cli_rundir)/pubsub"
: >"$(cli_rundir)/pubsub/$TAG.junk"
ls_ours
expect_lines "a plain file is no publisher" 0
rm -f "$(cli_rundir)/pubsub/$TAG.junk"

# ---- pub/sub ---------------------------------------------------------------

# a subscriber waits for its publisher; the publisher waits for subscribers
N="pubsub://$TAG.three"
$GUARD "$XIPC" sub -n 3 "$N" </dev/null >"$TMP/sub.out" 2>"$TMP/sub.err" &
SUBB=$!
BG="$BG $SUBB"
run pub --wait-subscribers 1000 "$N" one "two  spaces" ""
expect_rc "pub three messages" 0
reap "$SUBB"
expect_rc "sub -n 3" 0
printf 'one\ntwo  spaces\n\n' >"$TMP/want"
expect_file "sub -n 3" "$TMP/sub.out" "$TMP/want"

# without -n: to the end of the stream, stdin lines
N="pubsub://$TAG.lines"
$GUARD "$XIPC" sub "$N" </dev/null >"$TMP/sub.out" 2>"$TMP/sub.err" &
SUBB=$!
BG="$BG $SUBB"
printf 'alpha\n\nlast, no newline' |
    $GUARD "$XIPC" pub --wait-subscribers=1000 "$N" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "pub stdin lines" 0
reap "$SUBB"
expect_rc "sub until the publisher closes" 0
printf 'alpha\n\nlast, no newline\n' >"$TMP/want"
expect_file "sub until the publisher closes" "$TMP/sub.out" "$TMP/want"

# -n more than was published: the end of the stream is an error
N="pubsub://$TAG.short"
$GUARD "$XIPC" sub -n 5 "$N" </dev/null >"$TMP/sub.out" 2>"$TMP/sub.err" &
SUBB=$!
BG="$BG $SUBB"
run pub --wait-subscribers 1000 "$N" only
expect_rc "pub one message" 0
reap "$SUBB"
expect_rc "sub -n 5 of one message" 1
expect_text "sub -n 5 of one message" "$TMP/sub.out" "only"
expect_text "sub -n 5 of one message (stderr)" "$TMP/sub.err" \
    "xipc: $N: peer closed or died"

run sub -t 200 "pubsub://$TAG.nobody"
expect_rc "sub -t 200 without a publisher" 1
expect_text "sub -t 200 without a publisher" "$TMP/err" \
    "xipc: pubsub://$TAG.nobody: timed out"

# a stopped subscriber is overtaken: 5000 messages through 4096 slots
N="pubsub://$TAG.lap"
seq 1 5000 >"$TMP/seq"
$GUARD_BG "$XIPC" sub -w "$N" </dev/null >"$TMP/lapsub.out" 2>"$TMP/lapsub.err" &
LAPS=$!
BG="$BG $LAPS"
$GUARD_BG "$XIPC" pub --wait-subscribers 1000 "$N" <"$TMP/seq" \
    >"$TMP/lappub.out" 2>"$TMP/lappub.err" &
LAPP=$!
BG="$BG $LAPP"
if wait_line "$TMP/lapsub.err" sub; then
    kill -STOP "$XPID" # subscribed, and stopped before the first message
    reap "$LAPP"
    expect_rc "pub 5000 lines" 0
    kill -CONT "$XPID"
    reap "$LAPS"
    expect_rc "lapped sub" 0
    grep -v '^sub: pid' "$TMP/lapsub.err" >"$TMP/lap.err"
    expect_text "lapped sub (stderr)" "$TMP/lap.err" "xipc: $N: lost 904 messages"
    seq 905 5000 >"$TMP/want"
    expect_file "lapped sub" "$TMP/lapsub.out" "$TMP/want"
fi

# ---- nothing of ours is left behind ----------------------------------------

ls_ours
expect_lines "nothing left" 0
left=$(shm_left "$TAG")
if [ -n "$left" ]; then fail "objects left in /dev/shm: $left"; else ok; fi

cli_finish cli_ls_test
