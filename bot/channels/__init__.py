"""Ways returns come in and people talk to kpibot (Telegram, email): thin adapters over the one intake."""
