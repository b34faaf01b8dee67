"""Reports over a line's calls: the overview page (aggregates, charts) and CSV export."""
