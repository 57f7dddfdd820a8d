"""Operating the connector: the scheduled daemon (`connector run`), its HTTP endpoint (health, readiness,
Prometheus metrics, the read-only status page), and the leadership of one daemon per store."""
