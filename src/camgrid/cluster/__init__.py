"""camgrid.cluster: recorder nodes, camera leases and failover on a shared PostgreSQL."""
