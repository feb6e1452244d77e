"""The retention shell: loads schedules, reads the catalog, applies the pure core's decisions
(holds, disposition, certificates) to the catalog and the object store, and audits every step."""
