"""Kafka beside Faust: aiokafka client options, the lag reader, the ApiVersions probe, the
Faust fast path. The only runtime importer of aiokafka."""
