"""Motion in a region of one camera's picture, and tamper alarms, from the compressed stream at almost no cost.

Activity per camera-second (picture sizes and types against the camera's own baseline), motion search over
keyframes narrowed by it, and tamper detection (covered, defocused, turned, blinded, frozen). Never people,
faces, plates or objects, never counts, never anything aggregated across cameras (docs/design/motion-search.md).
"""
