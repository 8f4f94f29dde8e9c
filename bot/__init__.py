"""kpibot application: configuration, storage, intake, outbox, command line, reports and channels."""
