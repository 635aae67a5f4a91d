package main

import (
	"encoding/json"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/etcdserver/api/rafthttp"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/version"
)

// Routes of the peer listener, as result lines name them.
type route int

const (
	routeMsgAppV2 route = iota // GET /raft/stream/msgapp/<from>
	routeMessage               // GET /raft/stream/message/<from>
	routePipeline              // POST /raft
	routeSnapshot              // POST /raft/snapshot
	routeProbing               // GET /raft/probing
	routeVersion               // GET /version
	routeOther
	numRoutes
)

var routeNames = [numRoutes]string{
	"stream_msgappv2", "stream_message", "pipeline", "snapshot", "probing", "version", "other",
}

func routeOf(p string) route {
	switch {
	case strings.HasPrefix(p, rafthttp.RaftStreamPrefix+"/msgapp/"):
		return routeMsgAppV2
	case strings.HasPrefix(p, rafthttp.RaftStreamPrefix+"/message/"):
		return routeMessage
	case p == rafthttp.RaftPrefix:
		return routePipeline
	case p == rafthttp.RaftSnapshotPrefix:
		return routeSnapshot
	case p == rafthttp.ProbingPrefix:
		return routeProbing
	case p == "/version":
		return routeVersion
	}
	return routeOther
}

// peerMux is the mux of an etcd 3.4 peer listener: the raft handler on
// /raft and /raft/, GET /version, 404 elsewhere.
func peerMux(raft http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", http.NotFound)
	mux.Handle(rafthttp.RaftPrefix, raft)
	mux.Handle(rafthttp.RaftPrefix+"/", raft)
	mux.HandleFunc("/version", serveVersion)
	return mux
}

func serveVersion(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	body, _ := json.Marshal(version.Versions{Server: version.Version, Cluster: etcdClusterVersion})
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// wireStats counts, per route, the requests and the error answers (status
// >= 400), and, per stream type, the response bytes this node wrote into
// the streams its peers opened, that is what it sent on each. It also
// notes which peers have a stream of each type answered: the sender's
// start condition.
type wireStats struct {
	countBytes bool
	requests   [numRoutes]atomic.Uint64
	errors     [numRoutes]atomic.Uint64
	bytesOut   [2]atomic.Uint64 // routeMsgAppV2, routeMessage

	mu     sync.Mutex
	opened map[types.ID][2]bool // by the peer that opened them; routeMsgAppV2, routeMessage
}

func newWireStats(countBytes bool) *wireStats {
	return &wireStats{countBytes: countBytes, opened: map[types.ID][2]bool{}}
}

// streamsFrom reports whether peer id's GETs of each stream type were answered 200.
func (ws *wireStats) streamsFrom(id types.ID) (msgappv2, message bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	o := ws.opened[id]
	return o[routeMsgAppV2], o[routeMessage]
}

func (ws *wireStats) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := routeOf(r.URL.Path)
		ws.requests[rt].Add(1)
		rw := &countingWriter{ResponseWriter: w, ws: ws, route: rt}
		rw.flusher, _ = w.(http.Flusher)
		if rt == routeMsgAppV2 || rt == routeMessage {
			rw.from, _ = types.IDFromString(path.Base(r.URL.Path))
		}
		next.ServeHTTP(rw, r)
	})
}

// addTo puts http_requests, http_errors and (with -wirestats)
// stream_bytes_out into a result line.
func (ws *wireStats) addTo(res result) {
	req, errs := map[string]uint64{}, map[string]uint64{}
	for rt := route(0); rt < numRoutes; rt++ {
		if v := ws.requests[rt].Load(); v > 0 {
			req[routeNames[rt]] = v
		}
		if v := ws.errors[rt].Load(); v > 0 {
			errs[routeNames[rt]] = v
		}
	}
	res["http_requests"] = req
	res["http_errors"] = errs
	if ws.countBytes {
		res["stream_bytes_out"] = map[string]uint64{
			"msgappv2": ws.bytesOut[routeMsgAppV2].Load(),
			"message":  ws.bytesOut[routeMessage].Load(),
		}
	}
}

// countingWriter notes the status and counts a stream's body bytes. It
// keeps http.Flusher, which rafthttp's handlers assert.
type countingWriter struct {
	http.ResponseWriter
	flusher http.Flusher
	ws      *wireStats
	route   route
	from    types.ID // stream routes: the peer that opened it
	status  int
	noted   bool // the stream is in ws.opened
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if code >= 400 {
			w.ws.errors[w.route].Add(1)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	if w.ws.countBytes && w.status == http.StatusOK && w.route <= routeMessage {
		w.ws.bytesOut[w.route].Add(uint64(n))
	}
	return n, err
}

// Flush sends what is buffered. rafthttp's stream handler writes 200 and
// flushes before it attaches the stream: from then on the peer holds our
// stream writer of that type.
func (w *countingWriter) Flush() {
	if w.flusher != nil {
		w.flusher.Flush()
	}
	if !w.noted && w.status == http.StatusOK && w.route <= routeMessage && w.from != 0 {
		w.noted = true
		w.ws.mu.Lock()
		o := w.ws.opened[w.from]
		o[w.route] = true
		w.ws.opened[w.from] = o
		w.ws.mu.Unlock()
	}
}
