"""What every process (portal, action server, Rasa server) offers its operator alike: JSON logs
in production, Prometheus metrics, readiness answers. The processes import it; it imports none
of them."""
