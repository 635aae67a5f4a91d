package main

import (
	"bytes"
	"encoding/binary"
	"io/ioutil"
	"math"
	"sort"
	"strconv"
	"time"

	"go.etcd.io/etcd/etcdserver/api/snap"
	"go.etcd.io/etcd/raft"
	"go.etcd.io/etcd/raft/raftpb"
)

const (
	// streamGrace: once the sink is active, how long a sender waits for it
	// to open both stream GETs before it starts anyway.
	streamGrace = 3 * time.Second
	// The snapshot metadata of mode snap.
	snapIndex = 1000
	snapTerm  = 1
)

// runSender plays send, ping or snap and fills the result line; false when
// it failed (then res["error"] says why).
func runSender(nd *node, wire *wireStats, stop *stopper, res result) bool {
	cfg := nd.cfg
	res["to"] = cfg.to.String()
	res["size"] = cfg.size
	res["wait"] = cfg.wait
	if cfg.mode != "snap" {
		res["n"] = cfg.n
	}
	fail := func(msg string) bool {
		if why := stop.why(); why != "" {
			msg += " (" + why + ")"
		}
		res["error"] = msg
		return false
	}

	streams, ready := waitReady(nd, wire, stop.abort)
	if !ready {
		return fail("gave up waiting for the peer to connect")
	}
	res["streams_at_start"] = streams
	res["connect_s"] = time.Since(nd.started).Seconds()

	switch cfg.mode {
	case "send":
		return send(nd, stop.abort, res, fail)
	case "ping":
		return ping(nd, stop.abort, res, fail)
	default:
		return sendSnapshot(nd, stop.abort, res, fail)
	}
}

// waitReady is the start condition (-wait streams): ActiveSince(to) is set
// and the sink has opened both stream GETs to us, which we answered 200, so
// that our stream writers exist; if one type has not come streamGrace after
// the sink became active, start anyway. ActiveSince alone is not enough: it
// is set when our own stream reader's dial succeeds, and MsgApps sent
// before our writers exist go to the pipeline (dropped, reordered).
// -wait active skips the stream check, -wait none waits for nothing. Then
// it settles for -settle (not with none).
func waitReady(nd *node, wire *wireStats, abort <-chan struct{}) (map[string]bool, bool) {
	cfg := nd.cfg
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	var activeAt time.Time
	for {
		active := !nd.tr.ActiveSince(cfg.to).IsZero()
		msgapp, message := wire.streamsFrom(cfg.to)
		state := map[string]bool{"active": active, "msgappv2": msgapp, "message": message}
		if cfg.wait == "none" {
			return state, true
		}
		if active && activeAt.IsZero() {
			activeAt = time.Now()
		}
		if active && (cfg.wait == "active" || (msgapp && message) || time.Since(activeAt) > streamGrace) {
			select {
			case <-time.After(cfg.settle):
				return state, true
			case <-abort:
				return nil, false
			}
		}
		select {
		case <-tick.C:
		case <-abort:
			return nil, false
		}
	}
}

// msgApp is MsgApp i of the protocol: one entry of index i after i-1, term 1.
func msgApp(nd *node, i uint64, data []byte) raftpb.Message {
	return raftpb.Message{
		Type: raftpb.MsgApp, From: uint64(nd.cfg.id), To: uint64(nd.cfg.to),
		Term: 1, LogTerm: 1, Index: i - 1, Commit: 0,
		Entries: []raftpb.Entry{{Term: 1, Index: i, Type: raftpb.EntryNormal, Data: data}},
	}
}

// send: MsgApp 1..n, never more than W past the highest ack; the clock
// stops when MsgAppResp n arrives.
func send(nd *node, abort <-chan struct{}, res result, fail func(string) bool) bool {
	cfg := nd.cfg
	res["k"], res["w"] = cfg.k, cfg.w
	data := payload(cfg.size)
	n, w := cfg.n, cfg.w
	start := time.Now()
	for i := uint64(1); i <= n; i++ {
		if i > w && nd.acked.load() < i-w && !nd.acked.await(i-w, abort) {
			res["sent"], res["acked"] = i-1, nd.acked.load()
			return fail("gave up waiting for acks (window full)")
		}
		nd.tr.Send([]raftpb.Message{msgApp(nd, i, data)})
	}
	res["sent"] = n
	if !nd.acked.await(n, abort) {
		res["acked"] = nd.acked.load()
		return fail("gave up waiting for the final MsgAppResp")
	}
	elapsed := time.Since(start).Seconds()
	res["acked"] = nd.acked.load()
	res["elapsed_s"] = elapsed
	res["msgs_per_s"] = float64(n) / elapsed
	res["mb_per_s"] = float64(n) * float64(cfg.size) / elapsed / 1e6
	return true
}

// ping: one message in flight, warmup+n times; a MsgHeartbeat carrying its
// number (8 bytes big-endian) answered with the same context, or with
// -size > 0 MsgApp j answered by MsgAppResp j (sink -k 1).
func ping(nd *node, abort <-chan struct{}, res result, fail func(string) bool) bool {
	cfg := nd.cfg
	res["warmup"] = cfg.warmup
	var data []byte
	if cfg.size > 0 {
		data = payload(cfg.size)
		res["ping"] = "MsgApp"
	} else {
		res["ping"] = "MsgHeartbeat"
	}
	total := cfg.warmup + cfg.n
	rtts := make([]float64, 0, cfg.n)
	start := time.Now()
	for j := uint64(1); j <= total; j++ {
		t0 := time.Now()
		if data == nil {
			ctx := make([]byte, 8)
			binary.BigEndian.PutUint64(ctx, j)
			answered := nd.heartbeat.arm(j)
			nd.tr.Send([]raftpb.Message{{
				Type: raftpb.MsgHeartbeat, From: uint64(cfg.id), To: uint64(cfg.to), Term: 1, Commit: 0, Context: ctx,
			}})
			select {
			case <-answered:
			case <-abort:
				res["completed"] = j - 1
				return fail("gave up waiting for MsgHeartbeatResp")
			}
		} else {
			nd.tr.Send([]raftpb.Message{msgApp(nd, j, data)})
			if !nd.acked.await(j, abort) {
				res["completed"] = j - 1
				return fail("gave up waiting for MsgAppResp (is the sink running with -k 1?)")
			}
		}
		if j > cfg.warmup {
			rtts = append(rtts, float64(time.Since(t0).Nanoseconds())/1e3)
		}
	}
	res["elapsed_s"] = time.Since(start).Seconds()
	sort.Float64s(rtts)
	// nearest rank: the p-th percentile of n sorted values is the ceil(p/100*n)-th
	rank := func(p float64) float64 {
		r := int(math.Ceil(p / 100 * float64(len(rtts))))
		if r < 1 {
			r = 1
		}
		return rtts[r-1]
	}
	sum := 0.0
	for _, v := range rtts {
		sum += v
	}
	res["p50_us"], res["p90_us"], res["p99_us"] = rank(50), rank(90), rank(99)
	res["min_us"], res["max_us"] = rtts[0], rtts[len(rtts)-1]
	res["mean_us"] = sum / float64(len(rtts))
	return true
}

// sendSnapshot: one MsgSnap (index 1000, term 1, voters us and the sink)
// with a body of SIZE payload bytes, built before the clock starts, which
// stops at ReportSnapshot.
func sendSnapshot(nd *node, abort <-chan struct{}, res result, fail func(string) bool) bool {
	cfg := nd.cfg
	self, to := uint64(cfg.id), uint64(cfg.to)
	body := payload(cfg.size)
	m := raftpb.Message{
		Type: raftpb.MsgSnap, From: self, To: to, Term: 1,
		Snapshot: raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
			Index: snapIndex, Term: snapTerm, ConfState: raftpb.ConfState{Voters: []uint64{self, to}},
		}},
	}
	sm := snap.NewMessage(m, ioutil.NopCloser(bytes.NewReader(body)), cfg.size)
	start := time.Now()
	nd.tr.SendSnapshot(*sm)
	var status raft.SnapshotStatus
	select {
	case status = <-nd.snapc:
	case <-abort:
		return fail("gave up waiting for ReportSnapshot")
	}
	elapsed := time.Since(start).Seconds()
	closed := "unknown"
	select {
	case ok := <-sm.CloseNotify():
		closed = strconv.FormatBool(ok)
	case <-time.After(2 * time.Second):
	}
	res["status"] = "failure"
	if status == raft.SnapshotFinish {
		res["status"] = "finish"
	}
	res["close_notify_ok"] = closed
	res["total_size"] = sm.TotalSize
	res["elapsed_s"] = elapsed
	res["mb_per_s"] = float64(cfg.size) / elapsed / 1e6
	nd.snapMu.Lock()
	res["report_snapshot"] = append([]string{}, nd.snapSeen...)
	nd.snapMu.Unlock()
	if status != raft.SnapshotFinish {
		return fail("snapshot reported failure")
	}
	return true
}
