"""The intake: the event contract (checks, table, parser), routing, the policy, dead letters."""
