"""Faust, made cheaper per event: small extensions selected through Faust's own settings.

Faust's cost is per event, in its main loop, not in Kafka or in Vane's code
(INFRA.md; docs/performance.md has the profile). Three pieces cut it, each
plugged in where Faust expects a replacement, so that the app, agents, topics,
consumer group, commits and rebalancing stay Faust's:

- ``loop.use_uvloop``: the uvloop event loop. Faust's ``--loop`` option only
  takes effect when it is on the process's own command line at import time,
  which ``vane worker`` never is; this sets the policy before the app exists.
- ``monitor.LeanMonitor`` (the ``Monitor=`` app setting): Faust's monitor with
  its per-message and per-event bookkeeping made no-ops. Vane exports its own
  metrics and never reads Faust's monitor.
- ``consumer.Transport`` (the ``broker_consumer`` URL scheme ``vane-kafka://``):
  Faust's aiokafka transport whose consumer hands each fetched batch to the
  conductor inside one cancellable task, instead of racing a task per message
  against the flow-control event, and lets the broker hold an empty fetch for
  50 ms instead of 1.5 s (Tansu holds it that long even while data arrives).

And one in place of a ``Stream`` method: ``take.take_ready``, Faust's
``take_events`` taking a batch as soon as nothing more waits instead of at the
end of its timer (the intake agents' batches).
"""

from __future__ import annotations

from streams.kafka.fastpath.consumer import SCHEME, register_transport
from streams.kafka.fastpath.loop import use_uvloop
from streams.kafka.fastpath.monitor import LeanMonitor
from streams.kafka.fastpath.take import take_ready

__all__ = ["SCHEME", "LeanMonitor", "register_transport", "take_ready", "use_uvloop"]
