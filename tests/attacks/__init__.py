"""The project's own attack suite (issue 10): one module per class of leak or fault, each case one test id.

Every attack goes through a real gateway in front of a recording upstream double; the assertions in
``tests.attacks.harness`` raise ``LeakError`` when a raw value (or any normalised or decoded form of it) shows up
where it must not, and ``ServerError`` when bad input makes the gateway answer a 5xx. ``scripts/attack-report``
counts both per class.
"""
