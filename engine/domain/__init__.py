"""The programme's vocabulary (roles, tiers, statuses), its clock and China's working-day calendar: no storage, no I/O."""
