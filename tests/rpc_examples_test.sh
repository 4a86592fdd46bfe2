#!/bin/sh
# Run the examples of docs/rpc.md against each other: examples/rpc_server
# serves shm://, unix:// and tcp://, examples/rpc_client calls each.
#   rpc_examples_test.sh RUN32 RPC_SERVER RPC_CLIENT
# RUN32 (scripts/run32) starts both: the m32 suite's are 32-bit.
set -eu
run32=$1
server=$2
client=$3
dir=$(mktemp -d /tmp/xipc-rpcex.XXXXXX)
trap 'exec 3>&- 2>/dev/null || true; rm -rf "$dir"' EXIT
mkfifo "$dir/in"
"$run32" "$server" "shm://rpcex-$$" "unix://$dir/calc.sock" "tcp://127.0.0.1:0" \
    <"$dir/in" >"$dir/out" &
pid=$!
exec 3>"$dir/in"    # the server runs until this closes
n=0
while [ "$(grep -c '^serving ' "$dir/out" 2>/dev/null || true)" -lt 3 ]; do
    n=$((n + 1))
    if [ $n -gt 1000 ] || ! kill -0 $pid 2>/dev/null; then
        echo "rpc_examples_test: the server did not start" >&2
        cat "$dir/out" >&2
        exit 1
    fi
    sleep 0.01
done
for url in $(sed -n 's/^serving //p' "$dir/out"); do
    "$run32" "$client" "$url"
done
exec 3>&-
wait $pid
[ ! -e "$dir/calc.sock" ]   # the server removed its socket file
echo "rpc_examples_test ok"
