"""The benchmark harness behind ``make bench`` / ``vane bench``.

One run, one embedded stack, one generated workload produced once, then every
path reading it with its own consumer group: the aiokafka ceiling, a bare Faust
agent, the full scorer on one and two workers; then latency at half the
scorer's capacity; then, on the first broker, a million resident entities.
Figures and ratios come from that one run; nothing here asserts a speed.

Layout: ``workload`` (generate, route, produce), ``figures`` (pure arithmetic),
``process`` (worker child processes, group progress, CPU), ``ceiling``,
``bare`` (the bare Faust app), ``scorer`` (the full scorer's runs and Redis
figures), ``latency``, ``inprocess`` (contract and store figures), ``scale`` (the
million entities: memory, the scorer beside them, the sweep), ``run`` (the
phases in order), ``report`` (JSON, table, chart). ``docs/performance.md``
explains the figures.
"""
