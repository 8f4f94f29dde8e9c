"""What the workspace's pages show, read set-based (a few queries per page, never one per cell) and turned into
values ready to display with the report contexts' own formatting."""
