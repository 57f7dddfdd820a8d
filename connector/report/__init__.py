"""Reports both teams trust (issue 17): working-hours arithmetic, the handoff SLA, and the figures built on them."""
