"""ASF kit's stand-in for the `aiges` SDK, used only when the upstream package is not installed.

It has the import surface AIGES wrappers use (aiges.core.types, aiges.sdk, aiges.dto,
aiges.utils.log); see docs/capability.md.
"""
