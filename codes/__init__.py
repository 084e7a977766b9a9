"""The event-code catalogue (YAML data), shipped in the wheel as `analyzer.codes`."""
