#!/bin/bash
# How the data directories here were made: by the KV before it ran on the
# replica layer (commit 501e411, apps/kv/node.ts with its own Ready loop).
#   git worktree add --detach /tmp/oldkv 501e411
#   bash make.sh /tmp/oldkv /tmp/out
#   cd /tmp/out && for f in $(find m1 m2 compat1 -type f); do gzip -9 -c $f > HERE/$f.gz; done
# m1, m2: members 1 and 2 of three (peer ports 47311-47313), snapshots every
# 5 entries; member 4 added with POST /4, member 3 removed with DELETE /3
# (both compacted into the snapshots; members.json has them), 32 PUTs.
# compat1: one member with --raftexample-compat (gob entries), 13 PUTs.
set -e
OLD=$1
OUT=$2
rm -rf $OUT; mkdir -p $OUT
C=http://127.0.0.1:47311,http://127.0.0.1:47312,http://127.0.0.1:47313
U4=http://127.0.0.1:47314
common="--snapshot-count 5 --catch-up-entries 2 --tick-ms 20"
pids=()
for i in 1 2 3; do
  deno run -A $OLD/apps/kv/main.ts --id $i --cluster $C --port 4732$i --data-dir $OUT/m$i $common > $OUT/log$i.txt 2>&1 &
  pids+=($!)
done
put() { for t in $(seq 1 100); do code=$(curl -s -o /dev/null -w '%{http_code}' -XPUT "http://127.0.0.1:$1/$2" --data-binary "$3" || true); [ "$code" = 204 ] && return 0; sleep 0.1; done; echo "PUT $2 failed"; exit 1; }
for k in $(seq 0 9); do put 47321 k$k "v$k"; done
put 47322 esc '<a & "b">'
put 47321 uni 'héllo ☃'
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST http://127.0.0.1:47321/4 -d $U4); echo "POST /4: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -XDELETE http://127.0.0.1:47321/3); echo "DELETE /3: $code"
sleep 1
for k in $(seq 10 29); do put 47321 k$k "v$k"; done
for k in $(seq 1 2); do curl -s http://127.0.0.1:4732$k/k29; echo; done
kill -TERM ${pids[0]} ${pids[1]} 2>/dev/null || true
wait ${pids[0]} ${pids[1]} || true
kill -KILL ${pids[2]} 2>/dev/null || true
# compat: one member, gob entries
deno run -A $OLD/apps/kv/main.ts --id 1 --cluster http://127.0.0.1:47315 --port 47325 --data-dir $OUT/compat1 --raftexample-compat $common > $OUT/logc.txt 2>&1 &
p=$!
for k in $(seq 0 12); do put 47325 g$k "gob$k"; done
kill -TERM $p; wait $p || true
echo done
