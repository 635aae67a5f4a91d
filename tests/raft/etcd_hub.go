// etcd_hub runs etcd 3.4's own raft (RawNode, MemoryStorage) for the members
// named on its command line, and lets a test drive them over stdin/stdout:
// the test sends commands and the messages addressed to these members, one
// batch ending with "end"; the hub steps everything among its own members
// until quiet and answers with the messages for other members (base64
// protobuf), what was applied, read states and errors, then "end".
//
// Commands: tick | msg <b64> | propose <id> <data> | proposecc <id> <b64
// ConfChangeV2> | campaign <id> | read <id> <ctx> | compact <id> | status | end
//
// Every conf change applied is reported as "confstate <id> <index> <voters>
// <outgoing> <learners> <learnersNext> <autoLeave>" (lists comma-separated,
// "-" when empty).
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"
)

type member struct {
	id      uint64
	rn      *raft.RawNode
	st      *raft.MemoryStorage
	cs      pb.ConfState
	applied uint64
}

var members = map[uint64]*member{}
var out *bufio.Writer
var inbox []pb.Message

func main() {
	ids := []uint64{}
	for _, a := range os.Args[1:] {
		v, _ := strconv.ParseUint(a, 10, 64)
		ids = append(ids, v)
	}
	all := []raft.Peer{{ID: 1}, {ID: 2}, {ID: 3}}
	for _, id := range ids {
		st := raft.NewMemoryStorage()
		rn, err := raft.NewRawNode(&raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, Storage: st,
			MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256})
		if err != nil {
			panic(err)
		}
		if err := rn.Bootstrap(all); err != nil {
			panic(err)
		}
		members[id] = &member{id: id, rn: rn, st: st}
	}
	out = bufio.NewWriter(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "tick":
			for _, m := range members {
				m.rn.Tick()
			}
		case "msg":
			b, _ := base64.StdEncoding.DecodeString(f[1])
			var m pb.Message
			if err := m.Unmarshal(b); err != nil {
				panic(err)
			}
			inbox = append(inbox, m)
		case "propose":
			id, _ := strconv.ParseUint(f[1], 10, 64)
			if err := members[id].rn.Propose([]byte(f[2])); err != nil {
				fmt.Fprintf(out, "error propose %v\n", err)
			}
		case "proposecc":
			id, _ := strconv.ParseUint(f[1], 10, 64)
			b, _ := base64.StdEncoding.DecodeString(f[2])
			var cc pb.ConfChangeV2
			if err := cc.Unmarshal(b); err != nil {
				panic(err)
			}
			if err := members[id].rn.ProposeConfChange(cc); err != nil {
				fmt.Fprintf(out, "error proposecc %v\n", err)
			}
		case "campaign":
			id, _ := strconv.ParseUint(f[1], 10, 64)
			members[id].rn.Campaign()
		case "read":
			id, _ := strconv.ParseUint(f[1], 10, 64)
			members[id].rn.ReadIndex([]byte(f[2]))
		case "compact":
			id, _ := strconv.ParseUint(f[1], 10, 64)
			m := members[id]
			if _, err := m.st.CreateSnapshot(m.applied, &m.cs, []byte("snapdata")); err != nil {
				panic(err)
			}
			if err := m.st.Compact(m.applied); err != nil {
				panic(err)
			}
		case "status":
			for _, id := range ids {
				s := members[id].rn.Status()
				fmt.Fprintf(out, "status %d %d %d %d %s %d\n", id, s.Term, s.Lead, s.Commit, s.RaftState, members[id].applied)
			}
		case "end":
			settle()
			fmt.Fprintln(out, "end")
			out.Flush()
		}
	}
}

func settle() {
	for round := 0; round < 100; round++ {
		busy := false
		q := inbox
		inbox = nil
		for _, m := range q {
			busy = true
			if t, ok := members[m.To]; ok {
				if err := t.rn.Step(m); err != nil {
					fmt.Fprintf(out, "error step %v\n", err)
				}
			}
		}
		for _, id := range []uint64{1, 2, 3} {
			m, ok := members[id]
			if !ok {
				continue
			}
			for m.rn.HasReady() {
				busy = true
				rd := m.rn.Ready()
				if !raft.IsEmptySnap(rd.Snapshot) {
					m.st.ApplySnapshot(rd.Snapshot)
					m.cs = rd.Snapshot.Metadata.ConfState
					m.applied = rd.Snapshot.Metadata.Index
					fmt.Fprintf(out, "snapshot %d %d %s\n", id, rd.Snapshot.Metadata.Index, string(rd.Snapshot.Data))
				}
				if !raft.IsEmptyHardState(rd.HardState) {
					m.st.SetHardState(rd.HardState)
				}
				m.st.Append(rd.Entries)
				for _, msg := range rd.Messages {
					if _, local := members[msg.To]; local {
						inbox = append(inbox, msg)
					} else {
						b, _ := msg.Marshal()
						fmt.Fprintf(out, "msg %s\n", base64.StdEncoding.EncodeToString(b))
						if msg.Type == pb.MsgSnap {
							m.rn.ReportSnapshot(msg.To, raft.SnapshotFinish)
						}
					}
				}
				for _, e := range rd.CommittedEntries {
					if e.Type == pb.EntryConfChange {
						var cc pb.ConfChange
						cc.Unmarshal(e.Data)
						m.cs = *m.rn.ApplyConfChange(cc)
						reportConfState(id, e.Index, m.cs)
					} else if e.Type == pb.EntryConfChangeV2 {
						var cc pb.ConfChangeV2
						if err := cc.Unmarshal(e.Data); err != nil {
							panic(err)
						}
						m.cs = *m.rn.ApplyConfChange(cc)
						reportConfState(id, e.Index, m.cs)
					} else if len(e.Data) > 0 {
						fmt.Fprintf(out, "applied %d %d %s\n", id, e.Index, string(e.Data))
					}
					m.applied = e.Index
				}
				for _, rs := range rd.ReadStates {
					fmt.Fprintf(out, "readstate %d %d %s\n", id, rs.Index, string(rs.RequestCtx))
				}
				m.rn.Advance(rd)
			}
		}
		if !busy {
			return
		}
	}
}

func reportConfState(id, index uint64, cs pb.ConfState) {
	list := func(ids []uint64) string {
		if len(ids) == 0 {
			return "-"
		}
		parts := make([]string, len(ids))
		for i, v := range ids {
			parts[i] = strconv.FormatUint(v, 10)
		}
		return strings.Join(parts, ",")
	}
	fmt.Fprintf(out, "confstate %d %d %s %s %s %s %t\n", id, index, list(cs.Voters),
		list(cs.VotersOutgoing), list(cs.Learners), list(cs.LearnersNext), cs.AutoLeave)
}
