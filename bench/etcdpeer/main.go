// Command etcdpeer plays the roles of the peer benchmark (sink, send, ping,
// snap) on etcd 3.4.23's own rafthttp.Transport, so that bench/compare.ts can
// put etcd's transport and ours (bench/peer.ts) side by side, in any pairing.
//
// It is built offline in GOPATH mode against Debian's sources
// (golang-etcd-server-dev); bench/compare.ts does that when the binary is
// missing. See README.md.
//
// Files: main.go (setup, lifetime, result line), flags.go (command line),
// node.go (the Raft the transport delivers to; the sink role), sender.go
// (start condition, send, ping, snap), wire.go (the HTTP side and its
// counters), payload.go (the payload byte stream).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/etcdserver/api/rafthttp"
	"go.etcd.io/etcd/etcdserver/api/snap"
	stats "go.etcd.io/etcd/etcdserver/api/v2stats"
	"go.etcd.io/etcd/pkg/transport"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/version"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// impl names this side in result lines.
var impl = "go-etcd-rafthttp-" + version.Version

const (
	// etcdClusterVersion is what GET /version reports as "etcdcluster".
	etcdClusterVersion = "3.4.0"
	// dialTimeout is etcd's default peer dial timeout (1 s + 1 s election timeout).
	dialTimeout = 2 * time.Second
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcdpeer: %v\n", err)
		os.Exit(2)
	}
	if cfg.mode == "freeport" {
		os.Exit(printFreePorts(int(cfg.n)))
	}
	os.Exit(run(cfg))
}

// run plays one role and prints its result line; it returns the exit status.
func run(cfg *config) int {
	lg, err := newLogger(cfg.logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcdpeer: %v\n", err)
		return 2
	}
	defer lg.Sync()

	snapDir := cfg.snapDir
	if snapDir == "" {
		if snapDir, err = ioutil.TempDir("", "etcdpeer-snap-"); err != nil {
			fmt.Fprintf(os.Stderr, "etcdpeer: %v\n", err)
			return 1
		}
		defer os.RemoveAll(snapDir)
	} else if err := os.MkdirAll(snapDir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "etcdpeer: -snapdir: %v\n", err)
		return 1
	}

	nd := newNode(cfg, snap.New(lg, snapDir))
	selfURL := "http://" + cfg.listen
	tr := &rafthttp.Transport{
		Logger:      lg,
		DialTimeout: dialTimeout,
		ID:          cfg.id,
		URLs:        types.MustNewURLs([]string{selfURL}),
		ClusterID:   cfg.cluster,
		Raft:        nd,
		Snapshotter: nd.snapshotter,
		ServerStats: stats.NewServerStats("etcdpeer", cfg.id.String()),
		LeaderStats: stats.NewLeaderStats(cfg.id.String()),
		ErrorC:      make(chan error, 16),
	}
	nd.tr = tr
	if err := tr.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "etcdpeer: transport: %v\n", err)
		return 1
	}
	go func() {
		for err := range tr.ErrorC {
			nd.critical.Add(1)
			fmt.Fprintf(os.Stderr, "etcdpeer: rafthttp critical error: %v\n", err)
		}
	}()

	// The peer listener as etcd 3.4 serves it: rafthttp's listener (5 s
	// read/write timeouts), ReadTimeout 5 min, the raft handler on /raft and
	// /raft/, GET /version, 404 elsewhere.
	wire := newWireStats(cfg.wireStats)
	ln, err := rafthttp.NewListener(url.URL{Scheme: "http", Host: cfg.listen}, &transport.TLSInfo{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcdpeer: listen: %v\n", err)
		tr.Stop()
		return 1
	}
	srv := &http.Server{
		Handler:     wire.handler(peerMux(tr.Handler())),
		ReadTimeout: 5 * time.Minute,
		ErrorLog:    log.New(ioutil.Discard, "", 0),
	}
	go srv.Serve(ln)
	fmt.Fprintf(os.Stderr, "etcdpeer: %s id=%s cluster=%s listening on %s (pid %d)\n",
		cfg.mode, cfg.id, cfg.cluster, selfURL, os.Getpid())
	for _, p := range cfg.peers {
		tr.AddPeer(p.id, []string{p.url})
	}

	stop := stopSignal(cfg.timeout)
	res := result{"impl": impl, "mode": cfg.mode, "id": cfg.id.String(), "pid": os.Getpid()}
	var ok bool
	var unreachable uint64
	var metrics map[string]float64
	if cfg.mode == "sink" {
		res["stop"] = <-stop.done
		nd.sinkResult(res)
	} else {
		ok = runSender(nd, wire, stop, res)
		// A sender's figures are taken when its measurement ends: once it
		// stops, the peer's redials get 404 and its heartbeats fail, which
		// says nothing about the measured traffic.
		unreachable = nd.unreachable.Load()
		metrics = networkMetrics()
		res["unreachable_at_end"] = unreachable
		wire.addTo(res)
	}
	stop.release()

	tr.Stop()
	srv.Close()

	if cfg.mode == "sink" {
		ok = nd.sinkCheck(res)
		unreachable = nd.unreachable.Load()
		metrics = networkMetrics()
		wire.addTo(res)
	}
	res["metrics"] = metrics
	res["recv"] = nd.recvCounts()
	res["unreachable"] = nd.unreachable.Load()
	res["critical_errors"] = nd.critical.Load()
	// Every send-side drop calls ReportUnreachable; a full receive buffer is
	// only counted in peer_received_failures_total.
	res["drops"] = unreachable + uint64(metrics["peer_received_failures_total"])
	res["ok"] = ok
	res.print(cfg.json)
	if !ok {
		return 1
	}
	return 0
}

// stopper ends a sink, and makes a sender give up: -timeout or SIGTERM/SIGINT.
type stopper struct {
	abort  chan struct{} // closed when it fires
	done   chan string   // then receives the reason, once
	reason string        // valid once abort is closed
	quit   chan struct{} // release: stop watching
}

func stopSignal(timeout time.Duration) *stopper {
	s := &stopper{abort: make(chan struct{}), done: make(chan string, 1), quit: make(chan struct{})}
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	var expired <-chan time.Time
	if timeout > 0 {
		expired = time.After(timeout)
	}
	go func() {
		defer signal.Stop(sigc)
		why := "timeout"
		select {
		case sig := <-sigc:
			why = sig.String() // "terminated", "interrupt"
		case <-expired:
		case <-s.quit:
			return
		}
		s.reason = why
		close(s.abort)
		s.done <- why
	}()
	return s
}

// release stops watching for the signals and the timeout.
func (s *stopper) release() { close(s.quit) }

// why is the reason the stopper fired, or "" while it has not.
func (s *stopper) why() string {
	select {
	case <-s.abort:
		return s.reason
	default:
		return ""
	}
}

func newLogger(level string) (*zap.Logger, error) {
	if level == "off" {
		return zap.NewNop(), nil
	}
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log: %v", err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), lvl)
	return zap.New(core), nil
}

// printFreePorts prints n (1..100) free 127.0.0.1 ports on one line.
func printFreePorts(n int) int {
	if n <= 0 || n > 100 {
		n = 1
	}
	ports, err := freePorts(n)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcdpeer: %v\n", err)
		return 1
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	fmt.Println(strings.Join(s, " "))
	return 0
}
