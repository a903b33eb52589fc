"""What a run leaves behind: files (atomic writes, job status), provenance, plots."""
