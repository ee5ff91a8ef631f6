"""The simulated cameras as ONVIF devices: SOAP services over HTTP (:mod:`.http`) and WS-Discovery (:mod:`.discovery`).

Handlers register per service with :func:`camgrid.sim.onvif.soap.operation`; the HTTP server imports every handler
module by name so that each service can be written (and merged) on its own.
"""
