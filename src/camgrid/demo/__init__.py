"""Demonstrations on one machine: a local PostgreSQL and NATS JetStream (Debian's servers, loopback, throw-away
data) and a whole cluster over the simulated city (``make demo-cluster``); also used by the benchmarks and tests."""
