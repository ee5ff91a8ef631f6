"""Outage scenarios for the incident engine: a synthetic city day of power, site, uplink and camera faults with its
ground truth, a replay of its camera events through the engine on a simulated clock, and the score against the
truth (``camgrid health replay``, ``make bench-health``). Tooling, not the live path: ``camgrid.health`` runs live."""
