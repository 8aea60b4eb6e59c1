"""Development harness: embedded servers, demo, replay, generator, benchmark.

Nothing in the runtime imports it.
"""
