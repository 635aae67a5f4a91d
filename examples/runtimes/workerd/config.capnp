# Member 3 on workerd. MEMBERS (optional) overrides the addresses in worker.js.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .member),
    # Outbound fetch to loopback and private addresses (the default allows public only).
    (name = "peers", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:23803", http = (), service = "main")],
);

const member :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "@rafthttp/rafthttp", esModule = embed "../../../dist/rafthttp.js"),
  ],
  durableObjectNamespaces = [(className = "Member", uniqueKey = "rafthttp-example")],
  durableObjectStorage = (inMemory = void),
  globalOutbound = "peers",
  bindings = [
    (name = "MEMBER", durableObjectNamespace = "Member"),
    (name = "MEMBERS", fromEnvironment = "MEMBERS"),
  ],
);
