package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// result is the one result line: the protocol's field names, and for the
// fields bench/peer.ts adds the same names.
type result map[string]interface{}

// print writes the line on stdout: one JSON object, or sorted `key value`
// lines.
func (res result) print(asJSON bool) {
	if asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			fmt.Fprintf(os.Stderr, "etcdpeer: result: %v\n", err)
			return
		}
		os.Stdout.Write(append(b, '\n'))
		return
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		var v string
		switch x := res[k].(type) {
		case string:
			v = x
		case float64:
			v = fmt.Sprintf("%.6g", x)
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		fmt.Fprintf(&sb, "%-18s %s\n", k, v)
	}
	os.Stdout.WriteString(sb.String())
}

// networkMetrics sums rafthttp's own prometheus metrics (etcd_network_*,
// registered with the default registry) over their labels, under their
// names without the prefix; a histogram counts its observations (NAME_count).
// The failure counters are always there: a vector has no series until a
// label is used, and peer_received_failures_total is the only trace of a
// receive-side drop.
func networkMetrics() map[string]float64 {
	out := map[string]float64{"peer_sent_failures_total": 0, "peer_received_failures_total": 0}
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcdpeer: metrics: %v\n", err)
	}
	for _, f := range families {
		name := strings.TrimPrefix(f.GetName(), "etcd_network_")
		if name == f.GetName() {
			continue
		}
		sum, histogram := 0.0, false
		for _, m := range f.GetMetric() {
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			} else if h := m.GetHistogram(); h != nil {
				sum += float64(h.GetSampleCount())
				histogram = true
			}
		}
		if histogram {
			name += "_count"
		}
		out[name] = sum
	}
	return out
}
