package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/pkg/types"
)

// config is the command line, checked. Go's flag package takes -flag and
// --flag, -flag=value and -flag value, as bench/peer.ts does.
type config struct {
	mode      string // sink | send | ping | snap | freeport
	id        types.ID
	cluster   types.ID
	listen    string // 127.0.0.1:PORT
	peers     peerFlags
	to        types.ID // senders: the sink
	n         uint64
	size      int64 // -1 when not given on a sink: the snapshot size is not checked
	k, w      uint64
	warmup    uint64
	timeout   time.Duration
	settle    time.Duration
	wait      string // streams | active | none
	json      bool
	snapDir   string
	verify    bool
	wireStats bool
	logLevel  string
}

type peer struct {
	id  types.ID
	url string
}

// peerFlags collects repeated -peer HEXID=URL flags.
type peerFlags []peer

func (p *peerFlags) String() string {
	var s []string
	for _, x := range *p {
		s = append(s, x.id.String()+"="+x.url)
	}
	return strings.Join(s, ",")
}

func (p *peerFlags) Set(v string) error {
	eq := strings.IndexByte(v, '=')
	if eq <= 0 {
		return fmt.Errorf("want HEXID=URL, got %q", v)
	}
	id, err := hexID(v[:eq])
	if err != nil {
		return err
	}
	raw := v[eq+1:]
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") {
		return fmt.Errorf("bad url %q (want http://host:port)", raw)
	}
	*p = append(*p, peer{id: id, url: raw})
	return nil
}

func hexID(s string) (types.ID, error) {
	id, err := types.IDFromString(s)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("want a non-zero hex id, got %q", s)
	}
	return id, nil
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	var (
		id, cluster, to       string
		n, k, w, warmup, size int64
		timeoutS              float64
		settleMs              int64
	)
	fs := flag.NewFlagSet("etcdpeer", flag.ContinueOnError)
	fs.StringVar(&c.mode, "mode", "sink", "sink | send | ping | snap | freeport (prints -n free ports)")
	fs.StringVar(&id, "id", "", "local member id, hex (required)")
	fs.StringVar(&cluster, "cluster", "", "cluster id, hex (required; both sides must agree)")
	fs.StringVar(&c.listen, "listen", "", "peer listener 127.0.0.1:PORT (required); also this node's URL")
	fs.Var(&c.peers, "peer", "remote member HEXID=http://HOST:PORT (repeatable)")
	fs.StringVar(&to, "to", "", "sender target (default: the first -peer)")
	fs.Int64Var(&n, "n", 10000, "send: MsgApp count (a multiple of -k); ping: measured pings; freeport: ports")
	fs.Int64Var(&size, "size", -1, "entry data bytes (send 64, ping 0 = heartbeat ping), snapshot bytes (snap 1 MiB); "+
		"sink: the expected snapshot size (unchecked if not given)")
	fs.Int64Var(&k, "k", 256, "the sink acks entry i when i % K == 0")
	fs.Int64Var(&w, "w", 1024, "sender window: sent - highest acked never exceeds W (W >= K)")
	fs.Int64Var(&warmup, "warmup", 0, "ping: unrecorded pings before the -n measured ones")
	fs.Float64Var(&timeoutS, "timeout", 600, "seconds: sink run time; a sender gives up after it (0: none)")
	fs.Int64Var(&settleMs, "settle", 200, "ms a sender waits once its start condition holds")
	fs.StringVar(&c.wait, "wait", "streams", "sender start condition: streams | active | none")
	fs.BoolVar(&c.json, "json", false, "print one JSON line on stdout at the end (else key value lines)")
	fs.StringVar(&c.snapDir, "snapdir", "", "where received snapshots are saved (default: a temp dir, removed at exit)")
	fs.BoolVar(&c.verify, "verify", true, "sink: at exit, compare each received snapshot with the payload stream")
	fs.BoolVar(&c.wireStats, "wirestats", true, "count the response bytes written on each stream type")
	fs.StringVar(&c.logLevel, "log", "warn", "rafthttp's log on stderr: debug | info | warn | error | off")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if n < 0 || warmup < 0 || k <= 0 || w <= 0 {
		return nil, errors.New("-n, -warmup must be >= 0; -k, -w must be > 0")
	}
	c.n, c.k, c.w, c.warmup, c.size = uint64(n), uint64(k), uint64(w), uint64(warmup), size
	c.timeout = time.Duration(timeoutS * float64(time.Second))
	c.settle = time.Duration(settleMs) * time.Millisecond
	switch c.mode {
	case "freeport":
		return c, nil
	case "sink", "send", "ping", "snap":
	default:
		return nil, fmt.Errorf("unknown -mode %q", c.mode)
	}
	switch c.wait {
	case "streams", "active", "none":
	default:
		return nil, fmt.Errorf("unknown -wait %q", c.wait)
	}
	if c.logLevel != "off" {
		if _, err := newLogger(c.logLevel); err != nil {
			return nil, err
		}
	}

	var err error
	if c.id, err = hexID(id); err != nil {
		return nil, fmt.Errorf("-id: %v", err)
	}
	if c.cluster, err = hexID(cluster); err != nil {
		return nil, fmt.Errorf("-cluster: %v", err)
	}
	if host, port, err := net.SplitHostPort(c.listen); err != nil || net.ParseIP(host) == nil || port == "" {
		return nil, fmt.Errorf("-listen: want IP:PORT such as 127.0.0.1:2380, got %q", c.listen)
	}
	for _, p := range c.peers {
		if p.id == c.id {
			return nil, fmt.Errorf("-peer %s has the local -id", p.id)
		}
	}

	if c.mode != "sink" {
		if len(c.peers) == 0 {
			return nil, fmt.Errorf("-mode %s needs a -peer", c.mode)
		}
		c.to = c.peers[0].id
		if to != "" {
			if c.to, err = hexID(to); err != nil {
				return nil, fmt.Errorf("-to: %v", err)
			}
		}
		known := false
		for _, p := range c.peers {
			known = known || p.id == c.to
		}
		if !known {
			return nil, fmt.Errorf("-to %s is not among the -peer ids", c.to)
		}
	}
	if c.size < 0 {
		switch c.mode {
		case "send":
			c.size = 64
		case "ping":
			c.size = 0
		case "snap":
			c.size = 1 << 20
		}
	}
	switch c.mode {
	case "send":
		if c.n == 0 || c.n%c.k != 0 {
			return nil, fmt.Errorf("-mode send: -n (%d) must be a positive multiple of -k (%d)", c.n, c.k)
		}
		if c.w < c.k {
			return nil, fmt.Errorf("-w (%d) must be >= -k (%d), or the sender waits for an ack that never comes", c.w, c.k)
		}
		if c.w >= 4096 {
			fmt.Fprintf(os.Stderr, "etcdpeer: warning: -w %d reaches rafthttp's 4096-message buffers; expect drops\n", c.w)
		}
	case "ping":
		if c.n == 0 {
			return nil, errors.New("-mode ping: -n must be > 0")
		}
	case "snap":
		if c.size <= 0 {
			return nil, errors.New("-mode snap: -size must be > 0")
		}
	}
	return c, nil
}

// freePorts picks n random ports of 20000-31999 that 127.0.0.1 can bind now:
// below Linux's ephemeral range (32768-60999), so no outgoing connection
// takes one between this check and its use (bench/ports.ts does the same).
func freePorts(n int) ([]int, error) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano() + int64(os.Getpid())))
	var out []int
	tried := map[int]bool{}
	for len(out) < n {
		if len(tried) >= 10000 {
			return nil, fmt.Errorf("found only %d of %d free ports", len(out), n)
		}
		p := 20000 + rng.Intn(12000)
		if tried[p] {
			continue
		}
		tried[p] = true
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			l.Close()
			out = append(out, p)
		}
	}
	return out, nil
}
