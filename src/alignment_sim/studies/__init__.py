"""Studies: replication jobs, designs and their points, sensitivity, collection, the
outcome measures and the patterns.
"""
