package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/etcdserver/api/rafthttp"
	"go.etcd.io/etcd/etcdserver/api/snap"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/raft"
	"go.etcd.io/etcd/raft/raftpb"
)

// node is the rafthttp.Raft the transport delivers to. A sink answers and
// counts; a sender hands acks, heartbeat answers and snapshot reports to
// its waiting loop. Process never fails and nobody is ever removed.
type node struct {
	cfg         *config
	tr          *rafthttp.Transport
	snapshotter *snap.Snapshotter
	started     time.Time

	recv        [32]atomic.Uint64 // Process calls by message type
	unreachable atomic.Uint64     // ReportUnreachable calls
	critical    atomic.Uint64     // errors read from ErrorC

	sink sinkState

	// senders
	acked     watermark // highest MsgAppResp index
	heartbeat exactWait // the MsgHeartbeatResp a ping waits for
	snapc     chan raft.SnapshotStatus
	snapMu    sync.Mutex
	snapSeen  []string // every ReportSnapshot status, in order
}

// sinkState is what a sink counts; Process runs on rafthttp's goroutines
// (the peer's receive loop, the snapshot handler), hence the lock.
type sinkState struct {
	mu         sync.Mutex
	entries    uint64
	entryBytes uint64
	lastIndex  uint64
	gaps       uint64
	restarts   uint64
	appResps   uint64
	hbResps    uint64
	snaps      []*snapRecord
}

// snapRecord is one received snapshot in the sink's result line.
type snapRecord struct {
	From       string   `json:"from"`
	Index      uint64   `json:"index"`
	Term       uint64   `json:"term"`
	Voters     []string `json:"voters"`
	AtS        float64  `json:"at_s"`
	DBPath     string   `json:"db_path,omitempty"`
	DBSize     int64    `json:"db_size"`
	SizeOK     *bool    `json:"size_ok,omitempty"`
	Verified   *bool    `json:"verified,omitempty"`
	VerifyNote string   `json:"verify_note,omitempty"`
	DBError    string   `json:"db_error,omitempty"`
}

func newNode(cfg *config, s *snap.Snapshotter) *node {
	return &node{cfg: cfg, snapshotter: s, started: time.Now(), snapc: make(chan raft.SnapshotStatus, 1)}
}

func (nd *node) Process(_ context.Context, m raftpb.Message) error {
	if int(m.Type) < len(nd.recv) {
		nd.recv[m.Type].Add(1)
	}
	if nd.cfg.mode == "sink" {
		nd.sinkProcess(m)
		return nil
	}
	switch m.Type {
	case raftpb.MsgAppResp:
		nd.acked.raise(m.Index)
	case raftpb.MsgHeartbeatResp:
		if len(m.Context) == 8 {
			nd.heartbeat.arrived(binary.BigEndian.Uint64(m.Context))
		}
	}
	return nil
}

func (nd *node) IsIDRemoved(uint64) bool { return false }

func (nd *node) ReportUnreachable(uint64) { nd.unreachable.Add(1) }

func (nd *node) ReportSnapshot(_ uint64, status raft.SnapshotStatus) {
	s := "failure"
	if status == raft.SnapshotFinish {
		s = "finish"
	}
	nd.snapMu.Lock()
	nd.snapSeen = append(nd.snapSeen, s)
	nd.snapMu.Unlock()
	select {
	case nd.snapc <- status: // the first one ends the sender's clock
	default:
	}
}

func (nd *node) recvCounts() map[string]uint64 {
	out := map[string]uint64{}
	for t := range nd.recv {
		if v := nd.recv[t].Load(); v > 0 {
			out[raftpb.MessageType(t).String()] = v
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The sink role.

func (nd *node) sinkProcess(m raftpb.Message) {
	self := uint64(nd.cfg.id)
	switch m.Type {
	case raftpb.MsgApp:
		s := &nd.sink
		var acks []uint64
		s.mu.Lock()
		for i := range m.Entries {
			e := &m.Entries[i]
			s.entries++
			s.entryBytes += uint64(len(e.Data))
			if e.Index != s.lastIndex+1 {
				if e.Index == 1 {
					s.restarts++ // a new sender run
				} else {
					s.gaps++
				}
			}
			s.lastIndex = e.Index
			if e.Index%nd.cfg.k == 0 {
				acks = append(acks, e.Index)
			}
		}
		s.appResps += uint64(len(acks))
		s.mu.Unlock()
		for _, idx := range acks {
			nd.tr.Send([]raftpb.Message{{Type: raftpb.MsgAppResp, From: self, To: m.From, Term: 1, Index: idx}})
		}
	case raftpb.MsgHeartbeat:
		nd.tr.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeatResp, From: self, To: m.From, Term: 1, Context: m.Context}})
		nd.sink.mu.Lock()
		nd.sink.hbResps++
		nd.sink.mu.Unlock()
	case raftpb.MsgSnap:
		nd.sinkSnapshot(m)
	}
}

// sinkSnapshot runs after rafthttp has saved (and fsynced) the body with
// Snapshotter.SaveDBFrom; it looks at the file. rafthttp answers the POST
// once this returns.
func (nd *node) sinkSnapshot(m raftpb.Message) {
	md := m.Snapshot.Metadata
	rec := &snapRecord{
		From:   types.ID(m.From).String(),
		Index:  md.Index,
		Term:   md.Term,
		Voters: []string{},
		AtS:    time.Since(nd.started).Seconds(),
		DBSize: -1,
	}
	for _, v := range md.ConfState.Voters {
		rec.Voters = append(rec.Voters, types.ID(v).String())
	}
	if p, err := nd.snapshotter.DBFilePath(md.Index); err != nil {
		rec.DBError = err.Error()
	} else if fi, err := os.Stat(p); err != nil {
		rec.DBError = err.Error()
	} else {
		rec.DBPath, rec.DBSize = p, fi.Size()
	}
	check := "size not checked (no -size)"
	if nd.cfg.size >= 0 {
		ok := rec.DBSize == nd.cfg.size
		rec.SizeOK = &ok
		check = fmt.Sprintf("expected %d: ok=%v", nd.cfg.size, ok)
	}
	fmt.Fprintf(os.Stderr, "etcdpeer: sink: MsgSnap from %s index %d term %d: db file %s size %d (%s)\n",
		rec.From, rec.Index, rec.Term, rec.DBPath, rec.DBSize, check)
	nd.sink.mu.Lock()
	nd.sink.snaps = append(nd.sink.snaps, rec)
	nd.sink.mu.Unlock()
}

// sinkResult puts the sink's counts into its result line.
func (nd *node) sinkResult(res result) {
	s := &nd.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	res["uptime_s"] = time.Since(nd.started).Seconds()
	res["k"] = nd.cfg.k
	res["entries"] = s.entries
	res["entry_bytes"] = s.entryBytes
	res["last_index"] = s.lastIndex
	res["index_gaps"] = s.gaps
	res["restarts"] = s.restarts
	res["replies"] = map[string]uint64{"MsgAppResp": s.appResps, "MsgHeartbeatResp": s.hbResps}
}

// sinkCheck verifies the received snapshots (-verify) once the transport has
// stopped, adds them to the result line, and tells whether the sink is ok:
// no index gap, and every snapshot saved, of the expected size and equal to
// the payload stream.
func (nd *node) sinkCheck(res result) bool {
	s := &nd.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.gaps == 0
	for _, rec := range s.snaps {
		if nd.cfg.verify && rec.DBPath != "" {
			at, err := comparePayload(rec.DBPath)
			same := err == nil && at < 0
			rec.Verified = &same
			if err != nil {
				rec.VerifyNote = err.Error()
			} else if at >= 0 {
				rec.VerifyNote = fmt.Sprintf("first difference at byte %d", at)
			}
		}
		ok = ok && rec.DBError == "" && (rec.SizeOK == nil || *rec.SizeOK) &&
			(rec.Verified == nil || *rec.Verified)
	}
	if len(s.snaps) > 0 {
		res["snapshots"] = s.snaps
	}
	return ok
}

// ---------------------------------------------------------------------------
// What a sender waits for.

// watermark is a value that only grows, with one waiter for a threshold.
type watermark struct {
	v    atomic.Uint64
	mu   sync.Mutex
	want uint64
	wake chan struct{} // non-nil while someone waits for want
}

func (w *watermark) load() uint64 { return w.v.Load() }

func (w *watermark) raise(v uint64) {
	for {
		old := w.v.Load()
		if v <= old || w.v.CompareAndSwap(old, v) {
			break
		}
	}
	w.mu.Lock()
	if w.wake != nil && w.v.Load() >= w.want {
		close(w.wake)
		w.wake = nil
	}
	w.mu.Unlock()
}

// await blocks until the value reaches want; false if abort closes first.
func (w *watermark) await(want uint64, abort <-chan struct{}) bool {
	if w.v.Load() >= want {
		return true
	}
	w.mu.Lock()
	if w.v.Load() >= want {
		w.mu.Unlock()
		return true
	}
	wake := make(chan struct{})
	w.want, w.wake = want, wake
	w.mu.Unlock()
	select {
	case <-wake:
		return true
	case <-abort:
		return false
	}
}

// exactWait waits for one value: armed before the request goes out, so
// that an answer can never come before its waiter.
type exactWait struct {
	mu   sync.Mutex
	want uint64
	wake chan struct{}
}

func (e *exactWait) arm(want uint64) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.want, e.wake = want, make(chan struct{})
	return e.wake
}

func (e *exactWait) arrived(v uint64) {
	e.mu.Lock()
	if e.wake != nil && v == e.want {
		close(e.wake)
		e.wake = nil
	}
	e.mu.Unlock()
}
