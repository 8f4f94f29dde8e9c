"""kpibot domain core: frameworks as data, calendar, scoring and payments.

Pure logic: no I/O beyond reading framework files, no clock, no database, no network.
"""
