"""Four-eyes exports: the request table and its service (audit first, district scope, a second person approves),
and the clip itself (remuxed without transcoding, a SHA-256 manifest signed with the installation's key)."""
