"""How kpibot's processes run: this process's identity and leases on shared work, worker processes bounded in memory
and time, heartbeats, and the shape of a periodic task or channel."""
