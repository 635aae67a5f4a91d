# workerd config of the test member: `workerd serve tests/runtimes/workerd.capnp
# --socket-addr http=127.0.0.1:PORT`, with the RAFT_* variables set (see
# member.ts) and dist/ built by `deno task build`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .member),
    # Outbound fetch may reach loopback and private addresses (the default
    # network service allows public addresses only).
    (name = "peers", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:2380", http = (), service = "main")],
);

const member :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [
    (name = "worker.js", esModule = embed "../../dist/runtimes/workerd_member.js"),
    (name = "@rafthttp/rafthttp", esModule = embed "../../dist/rafthttp.js"),
  ],
  durableObjectNamespaces = [(className = "RaftMember", uniqueKey = "rafthttp-test-member")],
  durableObjectStorage = (inMemory = void),
  globalOutbound = "peers",
  bindings = [
    (name = "MEMBER", durableObjectNamespace = "RaftMember"),
    (name = "RAFT_ID", fromEnvironment = "RAFT_ID"),
    (name = "RAFT_CLUSTER_ID", fromEnvironment = "RAFT_CLUSTER_ID"),
    (name = "RAFT_URL", fromEnvironment = "RAFT_URL"),
    (name = "RAFT_PEERS", fromEnvironment = "RAFT_PEERS"),
    (name = "RAFT_HEARTBEAT_MS", fromEnvironment = "RAFT_HEARTBEAT_MS"),
    (name = "RAFT_LOG", fromEnvironment = "RAFT_LOG"),
  ],
);
