"""Operations: /health and /ready, consumer lag (rules, sampler, /lag), /metrics, /scores."""
