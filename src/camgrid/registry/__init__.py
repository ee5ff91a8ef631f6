"""Cameras and the topology they hang on: districts, sites, power feeders, uplinks."""
