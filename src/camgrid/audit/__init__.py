"""The tamper-evident audit log: an RFC 6962 Merkle tree in the database with signed C2SP checkpoints, its export
and offline verification, and the transparency report built from it (docs/design/audit-log.md). Services write to
it through the port in ``camgrid.auditing``."""
