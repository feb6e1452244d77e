"""The capture pipeline: change detection, partitioned WARC batches, signed envelopes, log appends."""
